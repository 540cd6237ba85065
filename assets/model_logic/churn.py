"""Churn: which active customers will not order in the next 90 days.

Label of snapshot day t: the account is active at t (completed order in [t-179, t]) and has no
completed order in (t, t+90]. The models are fitted weekly, as of the Monday M on or before D, on a
capped, seeded sample of labeled snapshots (`training`: snapshots every 30 days back from M-90,
features as of t only). Two candidates, the seed's logistic regression (standardised) and a
depth- and sample-limited random forest, are evaluated on the time split; the better validation
AUC is selected (the logistic regression on ties or when nothing can be evaluated), refitted on
every labeled snapshot and stored as arrays; every night scores the accounts active at D from
the stored fit.

top_drivers: from the logistic regression refitted on all labeled snapshots, whichever model is
selected (trees have no faithful per-customer attribution as cheap): the up to 3 features with the
largest positive contribution coef_j x z_j (z = standardised feature value) to the churn logit,
written `feature=value` with the raw (untransformed) as-of value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from assets.model_logic import charts
from assets.model_logic.features import (
    MODEL_FEATURES,
    FeatureInputs,
    end_of_day_utc,
    features_at,
    model_matrix,
    short_sha,
)
from assets.model_logic.metrics import calibration_curve, classification_metrics
from assets.model_logic.output import ModelOutput
from assets.model_logic.training import (
    ACTIVE_DAYS,
    ModelStore,
    StoredModel,
    TimeSplit,
    fitted_model,
)
from assets.model_logic.trees import export_forest, forest_predict
from assets.state_logic import Snapshot
from schemas import TABLES, conform

MODELS = ("logistic_regression", "random_forest")
SHORT = {"logistic_regression": "lr", "random_forest": "rf"}
FOREST = {
    "n_estimators": 100,
    "max_depth": 10,
    "min_samples_leaf": 10,
    "max_features": "sqrt",
    "max_samples": 5_000,
}
"""Sized to the capped training set: each tree sees at most 5,000 bootstrap rows."""


# --- candidates as arrays -----------------------------------------------------------------------


def _fit_arrays(name: str, x: np.ndarray, y: np.ndarray, random_state: int) -> dict:
    """Fit one candidate and return it as named arrays (see `_predict`)."""
    if name == "logistic_regression":
        scaler = StandardScaler().fit(x)
        logit = LogisticRegression(max_iter=2000, C=1.0).fit(scaler.transform(x), y)
        return {
            "mean": scaler.mean_,
            "scale": scaler.scale_,
            "coef": logit.coef_[0],
            "bias": logit.intercept_,
        }
    params = {**FOREST, "max_samples": min(FOREST["max_samples"], len(x))}
    forest = RandomForestClassifier(**params, n_jobs=2, random_state=random_state)
    return export_forest(forest.fit(x, y))


def _contributions(arrays: dict, x: np.ndarray) -> np.ndarray:
    return (x - arrays["mean"]) / arrays["scale"] * arrays["coef"]


def _predict(name: str, arrays: dict, x: np.ndarray) -> np.ndarray:
    """P(churn); a row's terms are summed in a fixed order (no BLAS), so every process agrees."""
    if name == "logistic_regression":
        raw = _contributions(arrays, x).sum(axis=1) + arrays["bias"][0]
        return 1.0 / (1.0 + np.exp(-raw))
    return forest_predict(arrays, x)


def _prefixed(prefix: str, arrays: dict) -> dict[str, np.ndarray]:
    return {f"{prefix}.{k}": np.asarray(v) for k, v in arrays.items()}


def _unprefixed(prefix: str, arrays: dict) -> dict[str, np.ndarray]:
    return {k[len(prefix) + 1 :]: v for k, v in arrays.items() if k.startswith(prefix + ".")}


# --- the weekly fit -----------------------------------------------------------------------------


def churn_label(rows: pd.DataFrame) -> np.ndarray:
    return (rows["future_orders"] == 0).to_numpy(dtype=int)


def _evaluate(split: TimeSplit, random_state: int) -> tuple[list[dict], dict, bool]:
    """Report rows (one per candidate) and calibration curves on the validation snapshot."""
    y_train, y_valid = churn_label(split.train), churn_label(split.valid)
    evaluable = len(np.unique(y_train)) == 2 and len(y_valid) > 0
    report, curves = [], {}
    for name in MODELS:
        metrics = classification_metrics(np.array([]), np.array([]))
        if evaluable:
            arrays = _fit_arrays(name, model_matrix(split.train), y_train, random_state)
            p = _predict(name, arrays, model_matrix(split.valid))
            metrics = classification_metrics(y_valid, p)
            if np.isfinite(metrics["auc"]):
                mean_p, rate = calibration_curve(y_valid, p)
                curves[name] = [mean_p.tolist(), rate.tolist()]
        positive = float(y_train.mean()) if len(y_train) else None
        report.append(
            {"model": name, **metrics, "n_train": len(split.train), "positive_rate": positive}
        )
    return report, curves, evaluable


def _select(report: list[dict]) -> str:
    """Best validation AUC; ties and the non-evaluable case go to the seed's logistic regression."""
    aucs = {r["model"]: r["auc"] for r in report if np.isfinite(r["auc"])}
    if not aucs:
        return "logistic_regression"
    return max(aucs, key=lambda m: (aucs[m], m == "logistic_regression"))


def _fit_churn(inputs: FeatureInputs, random_state: int) -> StoredModel:
    """Evaluate, select and refit as of inputs.as_of (the refit Monday)."""
    split = TimeSplit.build(inputs, population="active", seed=random_state)
    meta: dict = {"fitted_as_of": inputs.as_of.date().isoformat(), **split.metadata()}
    y_all = churn_label(split.all)
    if len(np.unique(y_all)) < 2:
        reason = "no labeled snapshots" if len(y_all) == 0 else "labels have a single class"
        return {
            **meta,
            "status": "not trained",
            "reason": f"too little history to train: {reason}",
        }, {}
    report, curves, evaluable = _evaluate(split, random_state)
    selected = _select(report)
    x_all = model_matrix(split.all)
    arrays = _prefixed("lr", _fit_arrays("logistic_regression", x_all, y_all, random_state))
    if selected != "logistic_regression":
        arrays |= _prefixed("final", _fit_arrays(selected, x_all, y_all, random_state))
    meta |= {
        "status": "trained",
        "selected_model": selected,
        "evaluated": bool(evaluable),
        "report": [{**r, "selected": r["model"] == selected} for r in report],
        "curves": curves,
    }
    return meta, arrays


# --- nightly scoring ----------------------------------------------------------------------------


def top_drivers(lr: dict, x: np.ndarray, raw: pd.DataFrame, n: int = 3) -> list[list[str]]:
    """Per row, the up to n features with the largest positive coef x z contribution."""
    if len(x) == 0:
        return []
    contrib = _contributions(lr, x)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :n]
    rows = np.arange(len(x))[:, None]
    positive = contrib[rows, order] > 0
    values = raw[MODEL_FEATURES].to_numpy(dtype="float64")[rows, order]
    names = np.asarray(MODEL_FEATURES, dtype=object)[order]
    text = names + "=" + np.char.mod("%.4g", values).astype(object)
    return [list(t[p]) for t, p in zip(text, positive, strict=True)]


def _score(meta: dict, arrays: dict, inputs: FeatureInputs, high: float, medium: float):
    now = features_at(inputs, inputs.as_of)
    now = now[now["recency_days"] <= ACTIVE_DAYS - 1]
    x_now = model_matrix(now)
    selected = meta["selected_model"]
    final = _unprefixed("lr" if selected == "logistic_regression" else "final", arrays)
    prob = _predict(selected, final, x_now) if len(now) else np.array([])
    scores = pd.DataFrame(
        {
            "account_id": now.index,
            "churn_probability": np.clip(prob, 0.0, 1.0),
            "risk_tier": np.where(prob >= high, "high", np.where(prob >= medium, "medium", "low")),
            "top_drivers": top_drivers(_unprefixed("lr", arrays), x_now, now),
            "model_version": f"{SHORT[selected]}-" + short_sha(meta["fit_key"]),
        }
    )
    return conform(scores.sort_values("account_id", kind="stable"), TABLES["churn_scores"])


def _report(meta: dict, trained_at: pd.Timestamp) -> pd.DataFrame:
    frame = pd.DataFrame(meta["report"]).assign(
        trained_at=trained_at,
        fitted_as_of=end_of_day_utc(pd.Timestamp(meta["fitted_as_of"]).date()),
        n_labeled=meta["n_labeled"],
    )
    return conform(frame.sort_values("model", kind="stable"), TABLES["churn_model_report"])


def _empty(meta: dict, trained_at: pd.Timestamp) -> ModelOutput:
    return ModelOutput(
        tables={
            "churn_scores": TABLES["churn_scores"].empty_frame(),
            "churn_model_report": TABLES["churn_model_report"].empty_frame(),
        },
        metadata={**meta, "trained_at": trained_at.isoformat()},
    )


def build_churn(
    snap: Snapshot,
    *,
    high: float = 0.5,
    medium: float = 0.2,
    random_state: int = 0,
    store: ModelStore | None = None,
) -> ModelOutput:
    """churn_scores and churn_model_report as of D (see module docstring)."""
    inputs = FeatureInputs.from_snapshot(snap)
    trained_at = end_of_day_utc(snap.as_of)
    (stored, arrays), reused = fitted_model(
        "churn",
        inputs,
        {"models": MODELS, "forest": FOREST, "seed": random_state},
        lambda cut: _fit_churn(cut, random_state),
        store,
    )
    meta = {k: v for k, v in stored.items() if k not in ("curves", "report")}
    meta["reused_fit"] = reused
    if meta["status"] != "trained":
        return _empty(meta, trained_at)
    scores = _score(meta, arrays, inputs, high, medium)
    report = _report(stored, trained_at)
    coef = pd.Series(arrays["lr.coef"], index=MODEL_FEATURES).sort_values(
        key=np.abs, ascending=False
    )
    curves = {name: (np.asarray(a), np.asarray(b)) for name, (a, b) in stored["curves"].items()}
    metadata: dict[str, object] = {
        **meta,
        "model_version": scores["model_version"].iloc[0] if len(scores) else None,
        "trained_at": trained_at.isoformat(),
        "scored": len(scores),
        "high_risk_share": float((scores["risk_tier"] == "high").mean()) if len(scores) else 0.0,
        "report": report.drop(columns=["trained_at", "fitted_as_of"])
        .round(4)
        .to_markdown(index=False),
        "lr_coefficients": coef.round(4).to_frame("coef").to_markdown(),
    }
    chart = charts.calibration_chart(
        curves,
        f"Churn calibration (validation {meta['validation_day']}, fitted {meta['fitted_as_of']})",
    )
    return ModelOutput(
        tables={"churn_scores": scores, "churn_model_report": report},
        metadata=metadata,
        charts={"churn_calibration": chart},
    )
