"""Schema drift: column profiles of raw files and the comparison rules, on hand-made files."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from assets.drift.compare import LANDING_DAY, compare_profiles, name_score, sketch_overlap
from assets.drift.gate import append_history, check_day
from assets.drift.profile import infer_type, profile_file
from assets.ingest.day import DayResult
from assets.ingest.readers import RawFile, _empty_malformed
from sales_pipeline.core.config import SettingsError, load_settings
from schemas import SCHEMAS, TABLES, conform

SETTINGS = load_settings(environ={})


def raw_file(name: str, columns: dict[str, list]) -> RawFile:
    header = list(columns)
    labels = [f"c{i}" for i in range(len(header))]
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame(
        {
            label: pd.Series(v, dtype="str")
            for label, v in zip(labels, columns.values(), strict=True)
        }
    )
    return RawFile(
        source_file=name,
        name=name.rsplit("/", 1)[-1],
        sha256="0" * 64,
        encoding="utf-8",
        delimiter=",",
        header=header,
        frame=frame,
        source_row=pd.Series(range(1, n + 1)),
        malformed=_empty_malformed(),
        rows_read=n,
        error=None,
        columns=labels,
    )


def opportunities(day: str, n: int = 30, **overrides) -> dict[str, list]:
    cols = {
        "Id": [f"006{day[-2:]}{i:012d}" for i in range(n)],
        "StageName": ["Closed Won" if i % 3 else "Prospecting" for i in range(n)],
        "Amount": [f"{100 + i}.50" for i in range(n)],
        "CloseDate": [f"2024-03-{1 + i % 28:02d}" for i in range(n)],
        "CreatedDate": ["2024-01-05T10:00:00.000+0000"] * n,
        "LeadSource": [["Web", "Referral", "Partner"][i % 3] for i in range(n)],
        "IsDeleted": ["false"] * n,
    }
    for key, value in overrides.items():
        if value is None:
            cols.pop(key)
        else:
            cols[key] = value
    return cols


def profiles(day: str, columns: dict[str, list], name: str = "Opportunity.csv") -> pd.DataFrame:
    frame = profile_file("opportunities", raw_file(f"{day}/{name}", columns), SETTINGS)
    return frame.assign(**{LANDING_DAY: pd.Timestamp(day)}).astype({LANDING_DAY: "datetime64[s]"})


def drift(base: dict, today: dict) -> pd.DataFrame:
    history = profiles("2024-03-01", base)
    return compare_profiles(profiles("2024-03-02", today).drop(columns=LANDING_DAY), history)


def kinds(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["drift_kind"], frame["column"], strict=True))


def test_profile_rows_match_the_declared_schema():
    frame = profile_file(
        "opportunities", raw_file("d/Opportunity.csv", opportunities("01")), SETTINGS
    )
    SCHEMAS["schema_profile"].validate(frame)
    by_header = frame.set_index("header")
    assert by_header.loc["Amount", "inferred_type"] == "number"
    assert by_header.loc["Amount", "canonical_column"] == "amount"
    assert by_header.loc["CloseDate", "inferred_type"] == "date"
    assert by_header.loc["CloseDate", "date_style"] == "iso"
    assert by_header.loc["CreatedDate", "inferred_type"] == "datetime"
    assert by_header.loc["IsDeleted", "inferred_type"] == "bool"
    assert by_header.loc["LeadSource", "distinct_count"] == 3
    assert set(frame["source"]) == {"opportunities/salesforce"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1,234.50", "$5", "(3.00)"], "number"),
        (["1714000000000"] * 3, "datetime"),
        (["03/04/2024", "13/04/2024"], "date"),
        (["yes", "no", "y"], "bool"),
        (["x", "x"], "bool"),
        (["Web", "Referral"], "text"),
        ([], "empty"),
    ],
)
def test_type_inference(values, expected):
    assert infer_type(pd.Series(values, dtype="str"), None, excel=False) == expected


def test_personal_columns_get_no_value_sketch():
    raw = raw_file(
        "d/contacts.csv",
        {"contact_id": ["c1", "c2"], "email": ["a@x.io", "b@x.io"], "Mobile": ["1", "2"]},
    )
    frame = profile_file("contacts", raw, SETTINGS).set_index("header")
    assert list(frame.loc["email", "value_sketch"]) == []
    assert list(frame.loc["Mobile", "value_sketch"]) == []  # unmapped contact column: personal
    assert len(frame.loc["contact_id", "value_sketch"]) == 2


def test_personal_columns_of_any_entity_get_no_sketch_and_value_headers_are_masked():
    """Issue 11: PII is classified by column name in every entity, as the ingest masks it; a
    headerless file's first record (an e-mail as a header) is not stored as a column name."""
    raw = raw_file(
        "d/User.csv",
        {
            "Id": ["005000000000001", "005000000000002"],
            "Name": ["Ann", "Bob"],
            "Email": ["ann@x.io", "bob@x.io"],
            "MobilePhone": ["+1 555 0100", "+1 555 0101"],
            "jane.doe@example.com": ["x", "y"],
        },
    )
    frame = profile_file("reps", raw, SETTINGS)
    by_header = frame.set_index("header")
    assert list(by_header.loc["Email", "value_sketch"]) == []
    assert list(by_header.loc["MobilePhone", "value_sketch"]) == []
    assert len(by_header.loc["Id", "value_sketch"]) == 2
    assert "jane.doe@example.com" not in set(frame["header"]) | set(frame["header_key"])


def test_an_unchanged_file_has_no_drift():
    assert drift(opportunities("01"), opportunities("02")).empty


def test_benign_variety_is_not_drift():
    """What ingest reads the same way: ISO vs US dates, true/false vs 1/0, fewer open deals."""
    n = 30
    today = opportunities(
        "02",
        CloseDate=[f"03/{1 + i % 12:02d}/2024" for i in range(n)],
        IsDeleted=["0"] * n,
        Amount=[f"{100 + i}.50" if i % 4 else "" for i in range(n)],
    )
    assert drift(opportunities("01"), today).empty


def test_new_missing_and_renamed_columns():
    n = 30
    amounts = opportunities("02")["Amount"]
    today = opportunities("02", Amount=None, LeadSource=None, **{"Amount (converted)": amounts})
    today["Origin"] = [["Web", "Partner", "Referral"][i % 3] for i in range(n)]
    today["Discount__c"] = ["5"] * n
    today.pop("IsDeleted")
    found = drift(opportunities("01"), today)
    assert kinds(found) == {
        ("renamed_column", "Amount (converted)"),
        ("renamed_column", "Origin"),
        ("new_column", "Discount__c"),
        ("missing_column", "IsDeleted"),
    }
    renamed = found.set_index("column").loc["Origin"]
    assert renamed["previous_column"] == "LeadSource" and "matching values" in renamed["detail"]
    amount = found.set_index("column").loc["Amount (converted)"]
    assert amount["canonical_column"] == "amount" and "close name" in amount["detail"]
    SCHEMAS["schema_drift"].validate(found)


def test_type_change_population_drop_and_day_first_switch():
    n = 30
    today = opportunities(
        "02",
        LeadSource=[str(1 + i % 3) for i in range(n)],
        Amount=[""] * n,
        CloseDate=[f"{1 + i % 28:02d}/03/2024" for i in range(n)],
    )
    found = drift(opportunities("01"), today)
    assert kinds(found) == {
        ("type_change", "LeadSource"),
        ("population_drop", "Amount"),
        ("format_change", "CloseDate"),
    }


def test_ambiguous_dates_after_a_day_first_history_are_flagged():
    n = 30
    history = pd.concat(
        [
            profiles("2024-03-01", opportunities("01")),
            profiles(
                "2024-03-02",
                opportunities("02", CloseDate=[f"{13 + i % 15}/03/2024" for i in range(n)]),
            ),
        ],
        ignore_index=True,
    )
    ambiguous = opportunities("03", CloseDate=["05/03/2024"] * n)
    found = compare_profiles(profiles("2024-03-03", ambiguous).drop(columns=LANDING_DAY), history)
    assert kinds(found) == {("format_change", "CloseDate")}
    assert "month-first" in found["detail"].iloc[0]


def test_small_files_do_not_report_population_drops():
    today = opportunities("02", n=4, Amount=[""] * 4)
    assert drift(opportunities("01"), today).empty


def test_blocked_files_are_not_baselines():
    base = profiles("2024-03-01", opportunities("01")).assign(file_status="blocked")
    today = profiles("2024-03-02", opportunities("02", LeadSource=None)).drop(columns=LANDING_DAY)
    assert compare_profiles(today, base).empty  # no good baseline yet: nothing to compare with


def test_blocking_kinds_block_the_file_and_its_entity():
    history = profiles("2024-03-01", opportunities("01"))
    today = profiles("2024-03-02", opportunities("02", LeadSource=None)).drop(columns=LANDING_DAY)
    row = {
        "entity": "opportunities",
        "source_file": "2024-03-02/Opportunity.csv",
        "file_sha256": "0",
        "rows_read": 30,
        "rows_clean": 30,
        "rows_quarantined": 0,
        "rows_duplicate": 0,
        "extra_columns": [[]],
        "status": "ok",
    }
    audit = conform(
        pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in row.items()}),
        TABLES["ingest_audit"],
    )
    result = DayResult(day=date(2024, 3, 2), clean={}, audit=audit, profiles=today)
    check_day(result, history, block=("missing_column",))
    assert result.drift["blocking"].tolist() == [True]
    assert result.audit["status"].tolist() == ["blocked"]
    assert "schema drift: missing_column" in result.audit["message"].iloc[0]
    assert list(result.blocked) == ["opportunities"]
    assert set(result.profiles["file_status"]) == {"blocked"}
    # The next day of the run compares with day 1 only: a blocked file is no baseline.
    assert set(append_history(history, result)[LANDING_DAY].dt.day) == {1}


def test_name_and_value_similarity():
    assert name_score("amount", "amount (converted)") == 1.0
    assert name_score("stage", "close date") < 0.8
    assert sketch_overlap(["a", "b"], ["a", "b"]) == 1.0
    assert sketch_overlap([], ["a"]) == 0.0


def test_the_settings_file_names_the_blocking_kinds(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[drift]\nblock = ["missing_column", "renamed_column"]\n')
    assert load_settings({"settings_file": str(path)}, environ={}).drift_block == (
        "missing_column",
        "renamed_column",
    )
    path.write_text('[drift]\nblock = ["renamed"]\n')
    with pytest.raises(SettingsError, match="drift.block"):
        load_settings({"settings_file": str(path)}, environ={})


def _varied_day(rng, day: int, day_first_from: int) -> dict[str, list]:
    """An opportunities export whose size, date style and column contents vary day to day."""
    n = int(rng.choice([3, 8, 25]))
    dates = {
        "iso": [f"2024-03-{1 + i % 28:02d}" for i in range(n)],
        "dmy": [f"{13 + i % 15}/03/2024" for i in range(n)],
        "mdy": [f"03/{13 + i % 15}/2024" for i in range(n)],
        "ambiguous": ["05/03/2024"] * n,
        "empty": [""] * n,
    }[rng.choice(["iso", "ambiguous", "empty", *(["dmy", "mdy"] if day >= day_first_from else [])])]
    amounts = {
        "number": [f"{100 + i}.50" for i in range(n)],
        "empty": [""] * n,
        "partial": ["" if i % 4 else "10.5" for i in range(n)],
        "text": [f"about {i}" for i in range(n)],
    }[rng.choice(["number", "empty", "partial", "text"])]
    overrides: dict = {"CloseDate": dates, "Amount": amounts}
    lead = rng.random()
    if lead < 0.15:
        overrides["LeadSource"] = None
    elif lead < 0.3:
        overrides["LeadSource"] = [str(1 + i % 3) for i in range(n)]
    return opportunities(f"{day:02d}", n=n, **overrides)


@pytest.mark.parametrize("day_first_from", [0, 30])
def test_compacted_history_compares_exactly_like_the_full_history(monkeypatch, day_first_from):
    """compare_profiles keeps only the profiles a comparison can use; on a long, varied history
    (sizes, date styles, emptied, dropped and retyped columns, blocked files) every day's drift
    is the same as against the full history."""
    import numpy as np

    from assets.drift import compare

    rng = np.random.default_rng(7)
    days = []
    for day in range(1, 46):
        landed = (date(2024, 3, 1) + timedelta(days=day)).isoformat()
        frame = profiles(landed, _varied_day(rng, day, day_first_from))
        days.append(frame.assign(file_status="blocked" if rng.random() < 0.1 else "ok"))
    found = 0
    for i in range(1, len(days)):
        history = pd.concat(days[:i], ignore_index=True)
        today = days[i].drop(columns=LANDING_DAY)
        compacted = compare_profiles(today, history)
        with monkeypatch.context() as m:
            m.setattr(compare, "compact_history", compare._good_in_order)
            full = compare_profiles(today, history)
        pd.testing.assert_frame_equal(compacted, full)
        assert len(compare.compact_history(history)) <= len(history)
        found += len(full)
    assert found > 10  # the history really drifts: the comparison is not vacuous


_CELLS = st.one_of(
    st.from_regex(r"[+-]?\d{1,6}(\.\d{1,3})?", fullmatch=True),
    st.from_regex(r"20\d\d-[01]\d-[0-3]\d", fullmatch=True),  # invalid calendar dates too
    st.from_regex(
        r"20\d\d-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d(:[0-5]\d)?(Z|[+-]0\d:?00)?", fullmatch=True
    ),
    st.from_regex(r"[01]\d/[0-3]\d/20\d\d", fullmatch=True),
    st.sampled_from(["1,234.50", "$5", "(3)", "1e5", "yes", "x", "Web", "N/A", "1714000000000"]),
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    st.lists(_CELLS, min_size=1, max_size=12),
    st.sampled_from([None, "float64", "date", "timestamp", "string"]),
    st.booleans(),
)
def test_type_shortcuts_agree_with_the_parsers(cells, canonical_type, excel):
    """The one-regex shortcuts for plain decimals and ISO dates infer what the full parsers
    infer (mixed columns, invalid calendar dates and zoned times included)."""
    import pyarrow as pa

    from assets.drift import profile

    text = pa.array(cells, pa.string())
    fast = profile._infer_type(text, canonical_type, excel)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profile, "_PLAIN_DECIMAL", r"^\b$")  # matches nothing
        patch.setattr(profile, "_all_iso", lambda _text: False)
        slow = profile._infer_type(text, canonical_type, excel)
    assert fast == slow


@hypothesis_settings(max_examples=100, deadline=None)
@given(st.sets(st.text(max_size=8), max_size=60))
def test_value_sketch_hashes_stay_those_of_the_history(distinct):
    """Sketches are compared with the stored history's: the hash must stay pandas' default
    (categorised) hash of the values, whatever shortcut computes it."""
    import numpy as np
    import pyarrow as pa

    from assets.drift.profile import SKETCH_K, value_sketch

    key = "0123456789abcdef"
    texts = np.array(sorted(distinct), dtype=object)
    expected = [f"{int(h):016x}" for h in np.sort(pd.util.hash_array(texts, hash_key=key))]
    assert value_sketch(pa.array(sorted(distinct), pa.string()), key) == expected[:SKETCH_K]
