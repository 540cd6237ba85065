"""PNG charts for the UI / `_charts/`: monthly revenue vs target (overall) and the funnel.

Uses matplotlib's Agg canvas directly (no pyplot, no global state, safe in worker threads).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from assets.kpi_logic.funnel import FUNNEL_STAGES


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _money(value: float, _pos: object = None) -> str:
    """Axis label without matplotlib's '1e6' offset: 1.2M, 350k, 900."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"


def revenue_vs_target_chart(summary: pd.DataFrame) -> bytes:
    """Bars: overall monthly revenue; line: the company target where there is one.

    The running month (D before its last day) is drawn lighter and labelled month to date, so a
    half month does not read as a collapse. With many months only every n-th is labelled.
    """
    rows = summary[(summary["period_grain"] == "month") & (summary["dimension"] == "overall")]
    rows = rows.sort_values("period_start")
    days = summary.loc[summary["period_grain"] == "day", "period_start"]
    as_of = days.max() if len(days) else None
    labels = rows["period_start"].dt.strftime("%Y-%m").tolist()
    running = np.zeros(len(rows), dtype=bool)
    if (
        as_of is not None
        and len(rows)
        and as_of < rows["period_start"].iloc[-1] + pd.offsets.MonthEnd(0)
    ):
        running[-1] = True
        labels[-1] += " (MTD)"
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    revenue = rows["revenue"].to_numpy()
    ax.bar(x[~running], revenue[~running], color="#4C78A8", label="revenue")
    if running.any():
        ax.bar(
            x[running],
            revenue[running],
            color="#9ECAE9",
            hatch="//",
            edgecolor="#4C78A8",
            label="revenue, month to date",
        )
    target = rows["target_amount"].astype("float64").to_numpy()
    if np.isfinite(target).any():
        ax.plot(x, target, color="#F58518", marker="o", label="target")
    step = max(1, int(np.ceil(len(x) / 24)))
    ax.set_xticks(x[::step], labels[::step], rotation=45, ha="right")
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_ylim(0, None)
    ax.set_ylabel("revenue (reporting currency)")
    ax.set_title("Monthly revenue vs target (overall)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _png(fig)


def funnel_chart(funnel: pd.DataFrame) -> bytes:
    """Horizontal bars: deals reaching each stage, overall, summed over all creation months."""
    rows = funnel[funnel["dimension"] == "overall"]
    reached = rows.groupby("stage")["reached"].sum().reindex(list(FUNNEL_STAGES), fill_value=0)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    y = np.arange(len(reached))[::-1]
    ax.barh(y, reached.to_numpy(), color="#54A24B")
    ax.set_yticks(y, reached.index.tolist())
    lead = reached.iloc[0]
    for yi, value in zip(y, reached.to_numpy(), strict=True):
        share = f" ({value / lead:.0%})" if lead else ""
        ax.text(value, yi, f" {int(value)}{share}", va="center")
    ax.set_xlabel("opportunities that reached the stage")
    ax.set_title("Sales funnel (all creation months)")
    return _png(fig)
