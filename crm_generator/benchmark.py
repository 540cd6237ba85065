"""One big canonical opportunities export for the ingest benchmark (vectorised, no bad rows).

Values mix the benign spellings a real export has (thousands separators, currency symbols, four
datetime styles, ISO and US dates, several boolean and null spellings, padded IDs) so the benchmark
measures real parsing work; every row is valid and every ID unique.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from crm_generator import catalog as cat

_BASE = np.datetime64("2023-06-01T00:00", "m")  # all rows created before 2024-06-01


def _pick(
    rng: np.random.Generator, options: list[str], n: int, p: list[float] | None = None
) -> pa.Array:
    """Low-cardinality column as Arrow strings, without creating a Python string per row."""
    idx = pa.array(rng.choice(len(options), size=n, p=p).astype(np.int32))
    return pa.DictionaryArray.from_arrays(idx, pa.array(options)).cast(pa.string())


def _digits(values: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def _parts(values: np.ndarray) -> dict[str, pa.Array]:
    """Zero-padded date/time parts as Arrow strings, from integer arithmetic (no per-row Python;
    Arrow's strftime and numpy's datetime_as_string are both slow at this size)."""
    month_start = values.astype("datetime64[M]")
    minutes = (values.astype("datetime64[m]") - values.astype("datetime64[D]")).astype(np.int64)
    raw = {
        "Y": values.astype("datetime64[Y]").astype(np.int64) + 1970,
        "m": month_start.astype(np.int64) % 12 + 1,
        "d": (values.astype("datetime64[D]") - month_start.astype("datetime64[D]")).astype(np.int64)
        + 1,
        "H": minutes // 60,
        "M": minutes % 60,
    }
    return {k: _digits(v, 4 if k == "Y" else 2) for k, v in raw.items()}


def _join(*items: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*items, "")


def _choose(rng: np.random.Generator, variants: list[pa.Array], p: list[float]) -> pa.Array:
    """Row-wise mix of equally long string arrays."""
    which = rng.choice(len(variants), size=len(variants[0]), p=p)
    out = variants[0]
    for k in range(1, len(variants)):
        out = pc.if_else(pa.array(which == k), variants[k], out)
    return out


def write_opportunities_benchmark(
    path: Path, rows: int, seed: int = 0, *, bad_rows: int = 0
) -> Path:
    """Write `rows` canonical opportunities to `path` (CSV) and return the path.

    `bad_rows` > 0 replaces that many stages with an unknown one (for quarantine benchmarks).
    """
    rng = np.random.default_rng(seed)
    n = rows
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stage_i = rng.choice(7, size=n, p=[0.12, 0.12, 0.12, 0.1, 0.08, 0.26, 0.2])
    stages = list(cat.STAGES) + ["Stalled"]
    if bad_rows:
        stage_i[rng.choice(n, size=bad_rows, replace=False)] = len(cat.STAGES)
    stage = pa.DictionaryArray.from_arrays(pa.array(stage_i.astype(np.int32)), pa.array(stages))
    prob = np.asarray([cat.STAGE_PROBABILITY[s] for s in cat.STAGES] + [50])[stage_i]
    no_amount = pa.array(stage_i < 2)
    empty = pa.array([""] * 1, pa.string()).take(pa.array(np.zeros(n, dtype=np.int32)))

    cents = np.round(rng.lognormal(8.5, 1.0, n) * 100).astype(np.int64)
    plain = pc.binary_join_element_wise(
        pc.cast(pa.array(cents // 100), pa.string()), _digits(cents % 100, 2), "."
    )
    # Thousands separators (and a dollar sign) on a share of rows, formatted only there.
    fancy = rng.random(n) < 0.3
    styled = np.empty(n, dtype=object)
    styled[:] = ""
    styled[fancy] = [f"{c / 100:,.2f}" for c in cents[fancy]]
    styled = pa.array(styled, pa.string())
    dollar = pa.array(fancy & (rng.random(n) < 0.33))
    styled = pc.if_else(dollar, pc.binary_join_element_wise("$", styled, ""), styled)
    amount = pc.if_else(no_amount, empty, pc.if_else(pa.array(fancy), styled, plain))

    created = _BASE + rng.integers(0, 364 * 24 * 60, n).astype("timedelta64[m]")
    updated = created + rng.integers(0, 3 * 24 * 60, n).astype("timedelta64[m]")
    updated = np.where(updated < np.datetime64("2024-06-01T00:00"), updated, created)
    epoch = pc.cast(pa.array(created.astype("datetime64[ms]").astype(np.int64)), pa.string())
    c = _parts(created)
    day, hm = _join(c["Y"], "-", c["m"], "-", c["d"]), _join(c["H"], ":", c["M"], ":00")
    created_s = _choose(
        rng,
        [_join(day, "T", hm, "Z"), _join(day, " ", hm), _join(day, "T", hm, ".000+0000"), epoch],
        [0.5, 0.25, 0.15, 0.1],
    )
    k = _parts(created.astype("datetime64[D]") + rng.integers(10, 120, n).astype("timedelta64[D]"))
    close_s = _choose(
        rng,
        [_join(k["Y"], "-", k["m"], "-", k["d"]), _join(k["m"], "/", k["d"], "/", k["Y"])],
        [0.8, 0.2],
    )
    close_s = pc.if_else(no_amount, empty, close_s)
    account = _digits(rng.integers(1, 200_000, n), 7)
    account = pc.if_else(
        pa.array(rng.random(n) < 0.03), pc.binary_join_element_wise(" ", account, " ", ""), account
    )
    campaign = pc.if_else(
        pa.array(rng.random(n) < 0.4),
        _digits(rng.integers(1, 500, n), 4, "CMP"),
        _pick(rng, ["", "N/A", "NULL", "-"], n, [0.7, 0.1, 0.1, 0.1]),
    )
    prob_s = pc.cast(pa.array(prob), pa.string())
    prob_s = pc.if_else(
        pa.array(rng.random(n) < 0.5), pc.binary_join_element_wise(prob_s, "0", "."), prob_s
    )
    table = pa.table(
        {
            "opportunity_id": _digits(np.arange(1, n + 1), 9, "OP"),
            "account_id": account,
            "owner_id": _digits(rng.integers(1, 16, n), 3, "R"),
            "stage": stage.cast(pa.string()),
            "amount": amount,
            "currency": _pick(rng, ["USD", ""], n, [0.9, 0.1]),
            "probability": prob_s,
            "lead_source": _pick(rng, list(cat.LEAD_SOURCES), n),
            "campaign_id": campaign,
            "product": _pick(rng, list(cat.PRODUCTS), n),
            "created_at": created_s,
            "close_date": close_s,
            "updated_at": _join(
                *(lambda u: (u["Y"], "-", u["m"], "-", u["d"], "T", u["H"], ":", u["M"], ":00Z"))(
                    _parts(updated)
                )
            ),
            "is_deleted": _pick(
                rng, ["false", "true", "no", "0", "FALSE"], n, [0.6, 0.01, 0.15, 0.14, 0.1]
            ),
        }
    )
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path
