"""The analytics worker: a worker that cannot start fails its days with the reason, never hangs."""

from __future__ import annotations

from datetime import date

from sales_pipeline.analytics_lane import BackgroundAnalytics, InlineAnalytics, worker_wanted


def test_a_worker_that_cannot_start_fails_each_submitted_day_with_the_reason(tmp_path):
    lane = BackgroundAnalytics({"settings_file": str(tmp_path / "missing.toml")}, None)
    try:
        lane.submit(date(2024, 1, 31))
        lane.submit(date(2024, 2, 29))
        outcomes = lane.drain()
    finally:
        lane.close()
    assert [(o.day, o.phase, o.success) for o in outcomes] == [
        (date(2024, 1, 31), "analytics", False),
        (date(2024, 2, 29), "analytics", False),
    ]
    assert all(o.errors and o.errors[0].startswith("analytics worker:") for o in outcomes)


def test_the_worker_is_wanted_for_two_analytics_days_unless_switched_off(monkeypatch):
    monkeypatch.delenv("SALES_PIPELINE_ANALYTICS_WORKER", raising=False)
    assert not worker_wanted(1)
    # This machine has 2 cores; a single-core machine never starts one.
    import os

    assert worker_wanted(2) == (len(os.sched_getaffinity(0)) >= 2)
    monkeypatch.setenv("SALES_PIPELINE_ANALYTICS_WORKER", "0")
    assert not worker_wanted(13)


def test_inline_outcomes_come_back_in_submission_order(monkeypatch):
    import sales_pipeline.analytics_lane as lane_module
    from sales_pipeline.runner import RunOutcome

    ran = []

    def fake(defs, day, instance, ledger, *, force=False):
        ran.append(day)
        return RunOutcome(day, "analytics", True, 0.0)

    monkeypatch.setattr(lane_module, "run_analytics", fake)
    lane = InlineAnalytics(None, None, None)
    lane.submit(date(2024, 1, 31))
    assert [o.day for o in lane.ready()] == [date(2024, 1, 31)]
    lane.submit(date(2024, 2, 29))
    assert [o.day for o in lane.drain()] == [date(2024, 2, 29)] == ran[1:]
