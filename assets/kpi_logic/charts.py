"""PNG charts for the UI / `_charts/`: monthly revenue vs target (overall) and the funnel.

Uses matplotlib's Agg canvas directly (no pyplot, no global state, safe in worker threads).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from assets.kpi_logic.funnel import FUNNEL_STAGES


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def revenue_vs_target_chart(summary: pd.DataFrame) -> bytes:
    """Bars: overall monthly revenue; line: the company target where there is one."""
    rows = summary[(summary["period_grain"] == "month") & (summary["dimension"] == "overall")]
    rows = rows.sort_values("period_start")
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    ax.bar(x, rows["revenue"].to_numpy(), color="#4C78A8", label="revenue")
    target = rows["target_amount"].astype("float64").to_numpy()
    if np.isfinite(target).any():
        ax.plot(x, target, color="#F58518", marker="o", label="target")
    ax.set_xticks(x, rows["period_start"].dt.strftime("%Y-%m").tolist(), rotation=45, ha="right")
    ax.set_ylabel("revenue (reporting currency)")
    ax.set_title("Monthly revenue vs target (overall)")
    ax.legend(loc="upper left")
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
