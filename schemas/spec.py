"""Declarative table specs: one declaration per table drives its Arrow schema, its pandera schema,
the pandas dtypes used in memory, and the docs.

Following PUDL, a table is declared once, as data. Everything else is derived here so the Parquet
files, the validation and the in-memory frames can never drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

# Logical type -> (Arrow type, pandas dtype used in memory). Nullable pandas dtypes for ints and bools
# so a missing value never silently turns a count into a float.
_TYPES: dict[str, tuple[pa_arrow.DataType, str]] = {
    "string": (pa_arrow.string(), "str"),
    "float64": (pa_arrow.float64(), "float64"),
    "int64": (pa_arrow.int64(), "Int64"),
    "bool": (pa_arrow.bool_(), "boolean"),
    "timestamp": (pa_arrow.timestamp("us", tz="UTC"), "datetime64[us, UTC]"),
    "date": (pa_arrow.date32(), "datetime64[s]"),
    "list<string>": (pa_arrow.list_(pa_arrow.string()), "object"),
}


@dataclass(frozen=True)
class Col:
    """One column: its logical type, whether it may be null, pandera checks and a description."""

    name: str
    type: str
    nullable: bool = True
    description: str = ""
    checks: tuple[pa.Check, ...] = ()
    pii: bool = False
    free_text: bool = False
    """Free text (may mention people): never shown in metadata previews."""

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}")

    @property
    def arrow_type(self) -> pa_arrow.DataType:
        return _TYPES[self.type][0]

    @property
    def pandas_dtype(self) -> str:
        return _TYPES[self.type][1]


@dataclass(frozen=True)
class Table:
    """A warehouse table: name (= asset key = folder), grain, primary key and columns."""

    name: str
    description: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Col:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    def arrow_schema(self) -> pa_arrow.Schema:
        return pa_arrow.schema(
            [pa_arrow.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns],
            metadata={"table": self.name},
        )

    def pandera_schema(self, *, keys: bool = True, dtypes: bool = True) -> pa.DataFrameSchema:
        """Strict, non-coercing schema: frames are conformed first, so a dtype mismatch is a bug.

        The declared primary key (or `unique`) must be unique (nulls compare equal, as in the
        upsert); `keys=False` gives the row-level checks only, for validating records before
        duplicates are resolved. `dtypes=False` leaves out the dtype checks (for the per-file
        row rules: the ingest's asset check validates every table's dtypes once per run).
        """
        unique = list(self.unique or self.primary_key) if keys else []
        columns = {
            c.name: pa.Column(
                None if c.type == "list<string>" or not dtypes else c.pandas_dtype,
                checks=list(c.checks),
                nullable=c.nullable,
                description=c.description,
            )
            for c in self.columns
        }
        return pa.DataFrameSchema(
            columns,
            strict=True,
            coerce=False,
            ordered=False,
            unique=unique or None,
            name=self.name,
            description=self.description,
        )

    def empty_frame(self) -> pd.DataFrame:
        # Built once per column layout: casting every column took 17 ms, and a multi-day ingest
        # asks for hundreds (an entity absent on a day). Callers get their own copy.
        layout = (self.name, tuple((c.name, c.type) for c in self.columns))
        empty = _EMPTY_FRAMES.get(layout)
        if empty is None:
            empty = _EMPTY_FRAMES[layout] = conform(
                pd.DataFrame({c.name: [] for c in self.columns}), self
            )
        return empty.copy()

    def markdown(self) -> str:
        rows = [
            f"| `{c.name}` | {c.type} | {'' if c.nullable else 'yes'} | {c.description} |"
            for c in self.columns
        ]
        head = "| column | type | required | description |\n|---|---|---|---|"
        return "\n".join([head, *rows])


_EMPTY_FRAMES: dict[tuple, pd.DataFrame] = {}


def conform(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Select the table's columns in declared order and cast each to its in-memory dtype.

    Missing nullable columns are added as all-null, so every partition carries the same schema even
    when a vendor export lacks an optional column. A missing required column is a programming error.
    """
    out: dict[str, pd.Series] = {}
    n = len(df)
    for col in table.columns:
        if col.name in df.columns:
            series = df[col.name]
        elif col.nullable:
            series = pd.Series([None] * n, index=df.index, dtype="object")
        else:
            raise KeyError(f"{table.name}: required column {col.name!r} missing")
        out[col.name] = _cast(series, col)
    # No copy: copy-on-write tracks the columns shared with `df` (a write to either copies
    # then), and the copy was half the cost of conforming the few-dozen-row frames of a day.
    return pd.DataFrame(out, index=df.index, copy=False).reset_index(drop=True)


def _cast(series: pd.Series, col: Col) -> pd.Series:
    dtype = col.pandas_dtype
    if col.type not in ("list<string>", "date") and series.dtype == dtype:
        return series  # already cast (most frames are conformed more than once on their way)
    if col.type == "list<string>":
        # Parquet hands list cells back as numpy arrays; a missing cell becomes an empty list.
        values = [
            [str(x) for x in v] if isinstance(v, list | tuple | np.ndarray) else []
            for v in series.tolist()
        ]
        return pd.Series(values, index=series.index, dtype="object")
    if col.type == "timestamp":
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            return series.dt.tz_convert("UTC").astype(dtype)
        return pd.to_datetime(series, utc=True).astype(dtype)
    if col.type == "date":
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_localize(None)
        return pd.to_datetime(series).dt.normalize().astype(dtype)
    if col.type == "string":
        return series.astype(dtype)
    return series.astype(dtype)


def to_arrow(df: pd.DataFrame, table: Table) -> pa_arrow.Table:
    """Conform, then cast to the declared Arrow schema (the only way a frame reaches Parquet)."""
    frame = conform(df, table)
    arrays = []
    for col in table.columns:
        values = frame[col.name]
        if col.type == "list<string>":
            arrays.append(pa_arrow.array(values.tolist(), type=col.arrow_type))
            continue
        arr = pa_arrow.Array.from_pandas(values)
        arrays.append(arr.cast(col.arrow_type))
    return pa_arrow.Table.from_arrays(arrays, schema=table.arrow_schema())


def from_arrow(table_data: pa_arrow.Table, table: Table) -> pd.DataFrame:
    """Arrow -> pandas with the in-memory dtypes (nullable ints/bools, dates as datetime64)."""
    mapping = {pa_arrow.int64(): pd.Int64Dtype(), pa_arrow.bool_(): pd.BooleanDtype()}
    df = table_data.to_pandas(date_as_object=False, types_mapper=mapping.get)
    return conform(df, table)


def registry(tables: Sequence[Table]) -> Mapping[str, Table]:
    names = [t.name for t in tables]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate table names: {sorted(dupes)}")
    return {t.name: t for t in tables}
