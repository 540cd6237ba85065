"""PNG charts of the models, drawn on matplotlib's Agg canvas directly (no pyplot, no global
state: safe in worker threads and in Dagster's process)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # Fixed metadata so the same figure gives the same bytes (no software/creation-date stamps).
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def segment_profile_chart(profile: pd.DataFrame) -> bytes:
    """Heatmap: rows segments, columns feature medians; colour = column-wise z-score of the
    medians (which segment is high or low on what), cells annotated with the raw median."""
    values = profile.to_numpy(dtype="float64")
    with warnings.catch_warnings():  # all-NaN columns (a lone segment without win rates) are fine
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanstd(values, axis=0)
        spread[~np.isfinite(spread) | (spread == 0)] = 1.0
        z = np.nan_to_num((values - np.nanmean(values, axis=0)) / spread)
    fig = Figure(figsize=(1.6 * max(len(profile.columns), 3), 0.6 * len(profile) + 1.5))
    ax = fig.add_subplot()
    ax.imshow(z, cmap="RdYlGn", aspect="auto", vmin=-2, vmax=2)
    ax.set_xticks(range(len(profile.columns)), list(profile.columns), rotation=30, ha="right")
    ax.set_yticks(range(len(profile)), list(profile.index))
    for (i, j), value in np.ndenumerate(values):
        ax.text(
            j,
            i,
            "-" if not np.isfinite(value) else f"{value:,.3g}",
            ha="center",
            va="center",
            fontsize=8,
        )
    ax.set_title("Segment profiles (median per segment)")
    return _png(fig)


def forecast_chart(history: pd.Series, forecast: pd.DataFrame, title: str) -> bytes:
    """History (a daily series) + yhat with its 80% and 95% bands."""
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.plot(history.index, history.to_numpy(), color="#4C78A8", lw=1, label="actual")
    if len(forecast):
        ds = forecast["ds"]
        ax.fill_between(
            ds,
            forecast["yhat_lower_95"],
            forecast["yhat_upper_95"],
            color="#F58518",
            alpha=0.15,
            label="95%",
        )
        ax.fill_between(
            ds,
            forecast["yhat_lower_80"],
            forecast["yhat_upper_80"],
            color="#F58518",
            alpha=0.3,
            label="80%",
        )
        ax.plot(
            ds,
            forecast["yhat"],
            color="#F58518",
            lw=1.5,
            label=f"forecast ({forecast['model'].iloc[0]})",
        )
    ax.set_ylabel("daily revenue")
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    return _png(fig)


def calibration_chart(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> bytes:
    """Reliability diagram: mean predicted vs observed rate per bin, one line per model."""
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect")
    for name, (pred, obs) in sorted(curves.items()):
        ax.plot(pred, obs, marker="o", label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return _png(fig)


def importance_chart(importance: pd.Series, title: str) -> bytes:
    """Horizontal bars of feature importances (largest on top)."""
    importance = importance.sort_values()
    fig = Figure(figsize=(6, 0.3 * len(importance) + 1.5))
    ax = fig.add_subplot()
    ax.barh(range(len(importance)), importance.to_numpy(), color="#54A24B")
    ax.set_yticks(range(len(importance)), list(importance.index))
    ax.set_title(title)
    return _png(fig)
