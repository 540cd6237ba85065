"""The UI and the daemon really used: `dagster dev` on loopback, runs launched through GraphQL,
and a headless Chromium looking at the UI (screenshots under the test's temp dir, or
$SALES_PIPELINE_SCREENSHOTS when set).

Runs launched here go through the run queue and the default run launcher (a subprocess per run),
not the CLI's in-process path: a partition of an analytics asset, a single-run backfill of the
ingest assets, and a sensor run for a folder marked complete; the nightly schedule's tick is
evaluated by the code server (`scheduleDryRun`) and its run launched as the UI's "Test schedule"
dialog does. Slow: 3 minutes on an idle 2-core machine, 15 at load average 12 (analytics partition and
sensor run side by side took 11 of them). The waits allow 15 minutes per phase.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from sales_pipeline.core import warehouse
from sales_pipeline.definitions import build_defs
from sales_pipeline.jobs import INGEST_GROUPS
from sales_pipeline.runner import INSTANCE_YAML
from sales_pipeline.sensors import folder_content_hash, folder_fingerprint

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOCATION = "sales_pipeline"
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]
SENSOR_DAY = "2024-01-04"
# Every key of the ingest multi-asset (entities, quarantine, audit, schema profile and drift).
INGEST_KEYS = sorted(
    key.to_user_string()
    for key in dg.AssetSelection.groups(*INGEST_GROUPS).resolve(build_defs().resolve_asset_graph())
)
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from crm_generator import generate

    base = tmp_path_factory.mktemp("dev")
    landing, wh, home = base / "landing", base / "warehouse", base / "dagster_home"
    generate(landing, days=4, accounts=30, fmt="canonical", seed=0, start=date(2024, 1, 1))
    sensor_folder = landing / SENSOR_DAY
    held_back = base / "held_back"
    shutil.move(sensor_folder, held_back)  # delivered later, for the sensor
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SALES_PIPELINE_LANDING": str(landing),
        "SALES_PIPELINE_WAREHOUSE": str(wh),
        "SALES_PIPELINE_START_DATE": DAYS[0],
        "SALES_PIPELINE_MAX_QUARANTINE": "0.5",
    }
    log = open(base / "dagster_dev.log", "wb")  # noqa: SIM115 - closed in teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
        + ["-w", str(REPO / "workspace.yaml")],
        cwd=base,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/server_info", timeout=5)
            break
        except OSError:
            assert process.poll() is None, (base / "dagster_dev.log").read_text()[-3000:]
            time.sleep(2)
    else:
        pytest.fail(
            "dagster dev did not come up: " + (base / "dagster_dev.log").read_text()[-3000:]
        )
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=120)
    yield {
        "client": client,
        "url": url,
        "landing": landing,
        "warehouse": wh,
        "home": home,
        "held_back": held_back,
        "base": base,
    }
    os.killpg(process.pid, 15)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    # Run workers share the process group and outlive `dagster dev`'s own shutdown.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 9)
    log.close()


def _gql(server, query: str, variables: dict | None = None) -> dict:
    return server["client"]._execute(query, variables or {})


def _runs(server, key: str, value: str) -> list[dict]:
    data = _gql(
        server,
        """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
             ... on Runs { results { runId status jobName tags { key value } } } } }""",
        {"tags": [{"key": key, "value": value}]},
    )
    return data["runsOrError"]["results"]


def _wait(server, key: str, value: str, count: int = 1, timeout: float = 900) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(server, key, value)
        if len(runs) >= count and all(r["status"] in TERMINAL for r in runs):
            return runs
        time.sleep(3)
    log = (server["base"] / "dagster_dev.log").read_text(errors="replace")[-3000:]
    pytest.fail(f"runs {key}={value} did not finish: {_runs(server, key, value)}\n{log}")


def _selector(kind: str, name: str) -> dict:
    return {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", kind: name}


def _schedule_tick(server, at: datetime) -> dict:
    """The nightly schedule evaluated by the code server for its first tick after `at` (the UI's "Test
    schedule"): the same function and resources the daemon's tick runs."""
    return _gql(
        server,
        """mutation($s: ScheduleSelector!, $t: Float) { scheduleDryRun(selectorData: $s, timestamp: $t) {
             __typename ... on DryRunInstigationTick { evaluationResult {
               skipReason error { message } runRequests { runKey tags { key value } } } }
             ... on PythonError { message } } }""",
        {"s": _selector("scheduleName", "nightly"), "t": at.timestamp()},
    )["scheduleDryRun"]


def test_backfill_partition_run_sensor_and_schedule_through_the_api(server):
    started_at = time.monotonic()
    # A backfill of the ingest assets over three days, as the UI launches it: one run (the
    # single-run backfill policy). The ingest multi-asset is not subsettable: the UI selects
    # every one of its keys, so does this.
    selection = [{"path": [name]} for name in INGEST_KEYS]
    launched = _gql(
        server,
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {"params": {"assetSelection": selection, "partitionNames": DAYS}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    runs = _wait(server, "dagster/backfill", launched["backfillId"])
    assert [r["status"] for r in runs] == ["SUCCESS"], runs
    assert warehouse.list_partitions(server["warehouse"], "ingest_audit") == DAYS

    # The sensor: told that the backfilled folders are done (their fingerprints in its cursor,
    # as after its own runs), it picks up only the folder delivered now, marked complete.
    landing = server["landing"]
    cursor = {
        day: {
            "fp": folder_fingerprint(landing / day),
            "seq": 1,
            "sha": folder_content_hash(landing / day),
        }
        for day in DAYS
    }
    sensor = _selector("sensorName", "landing_folders")
    set_cursor = _gql(
        server,
        """mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) {
             __typename } }""",
        {"s": sensor, "c": json.dumps(cursor, sort_keys=True)},
    )["setSensorCursor"]
    assert set_cursor["__typename"] == "Sensor", set_cursor
    shutil.move(server["held_back"], landing / SENSOR_DAY)
    (landing / SENSOR_DAY / "_SUCCESS").write_text("")
    started = _gql(
        server,
        """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename } }""",
        {"s": sensor},
    )["startSensor"]
    assert started["__typename"] == "Sensor", started

    # Meanwhile one partition of the analytics assets, as "Materialize" on a partition does
    # (another partition than the sensor's: the run queue lets both run side by side).
    run_id = server["client"].submit_job_execution(
        "analytics_job", repository_location_name=LOCATION, tags={"dagster/partition": DAYS[-1]}
    )
    ours = _wait(server, "landing_sequence", "1")
    assert [(r["jobName"], r["status"]) for r in ours] == [("daily_job", "SUCCESS")], ours
    assert {"key": "dagster/partition", "value": SENSOR_DAY} in ours[0]["tags"]
    _wait(server, "dagster/partition", DAYS[-1])
    assert server["client"].get_run_status(run_id) == dg.DagsterRunStatus.SUCCESS
    assert warehouse.list_partitions(server["warehouse"], "kpi_summary") == [DAYS[-1], SENSOR_DAY]
    assert warehouse.list_partitions(server["warehouse"], "ingest_audit") == [*DAYS, SENSOR_DAY]

    # The nightly schedule's tick, evaluated by the code server (the first tick after the given
    # time: the next 02:00, for yesterday): for the sensor's day it skips, the sensor already ran
    # that content; for a day no daily run covered, it requests that partition with the landing
    # content's tag.
    covered = _schedule_tick(server, datetime(2024, 1, 4, 12, tzinfo=UTC))
    assert SENSOR_DAY in (covered["evaluationResult"]["skipReason"] or ""), covered
    fresh = _schedule_tick(server, datetime(2024, 1, 3, 12, tzinfo=UTC))["evaluationResult"]
    assert fresh["error"] is None and len(fresh["runRequests"]) == 1, fresh
    tags = {t["key"]: t["value"] for t in fresh["runRequests"][0]["tags"]}
    assert tags["dagster/partition"] == DAYS[-1] and "landing_sha256" in tags, tags
    # Its run launched as the UI's "Test schedule" dialog launches it: the daily job with the
    # tick's tags, through the run queue, end to end.
    tick_run = server["client"].submit_job_execution(
        "daily_job", repository_location_name=LOCATION, tags=tags
    )
    _wait(server, "landing_sha256", tags["landing_sha256"])
    assert server["client"].get_run_status(tick_run) == dg.DagsterRunStatus.SUCCESS
    # Now the tick for that day skips: a run already covers its landing content.
    again = _schedule_tick(server, datetime(2024, 1, 3, 12, tzinfo=UTC))["evaluationResult"]
    assert DAYS[-1] in (again["skipReason"] or "") and not again["runRequests"], again
    print(f"dagster dev runs: {time.monotonic() - started_at:.0f} s after the server was up")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (.ci/run installs Debian's chromium when run as root)",
)
def test_browser_sees_graph_and_partitions(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("SALES_PIPELINE_SCREENSHOTS") or server["base"] / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{server['url']}/assets", timeout=120_000)
        skip = page.get_by_role("button", name="Skip")
        with contextlib.suppress(sync_api.TimeoutError):
            skip.click(timeout=15_000)  # the first-visit dialog
        page.get_by_text("accounts_state").first.wait_for(timeout=120_000)
        page.screenshot(path=str(shots / "asset_graph.png"), full_page=True)
        page.goto(f"{server['url']}/assets/accounts?view=partitions", timeout=120_000)
        page.get_by_text("Partitions").first.wait_for(timeout=120_000)
        page.screenshot(path=str(shots / "accounts_partitions.png"), full_page=True)
        browser.close()
    assert (shots / "asset_graph.png").stat().st_size > 10_000
    assert (shots / "accounts_partitions.png").stat().st_size > 10_000
