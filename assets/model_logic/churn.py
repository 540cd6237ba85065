"""Churn: which active customers will not order in the next 90 days.

Label of snapshot day t: the account is active at t (completed order in [t-179, t]) and has no
completed order in (t, t+90]. Snapshots every 30 days back from D-90 (`snapshot_days`), features
as of t only (`features_at`). Two models (the seed's logistic regression, standardised, and a
HistGradientBoostingClassifier) are evaluated on the time split of `TimeSplit`; the better
validation AUC is selected (the logistic regression when nothing can be evaluated), refitted on
every labeled snapshot and scores the accounts active at D.

top_drivers: from the logistic regression refitted on all labeled snapshots, whichever model is
selected (trees have no faithful per-customer attribution as cheap): the up to 3 features with the
largest positive contribution coef_j x z_j (z = standardised feature value) to the churn logit,
written `feature=value` with the raw (untransformed) as-of value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
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
from assets.model_logic.metrics import TimeSplit, calibration_curve, classification_metrics
from assets.model_logic.output import ModelOutput
from assets.state_logic import Snapshot
from schemas import TABLES, conform

ACTIVE_DAYS = 180
MODELS = ("logistic_regression", "gradient_boosting")
SHORT = {"logistic_regression": "lr", "gradient_boosting": "hgb"}


def make_model(name: str, random_state: int):
    if name == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0))
    # No early stopping: its validation split would be random; fixed iterations stay reproducible.
    return HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        early_stopping=False,
        random_state=random_state,
    )


def churn_label(rows: pd.DataFrame) -> np.ndarray:
    return (rows["future_orders"] == 0).to_numpy(dtype=int)


def top_drivers(lr: Pipeline, x: np.ndarray, raw: pd.DataFrame, n: int = 3) -> list[list[str]]:
    """Per row, the up to n features with the largest positive coef x z contribution."""
    scaler, logit = lr.steps[0][1], lr.steps[-1][1]
    contrib = scaler.transform(x) * logit.coef_[0]
    out = []
    for i, row in enumerate(contrib):
        order = [j for j in np.argsort(-row, kind="stable")[:n] if row[j] > 0]
        out.append([f"{MODEL_FEATURES[j]}={raw.iloc[i][MODEL_FEATURES[j]]:.4g}" for j in order])
    return out


def _empty(reason: str, trained_at: pd.Timestamp, split: TimeSplit) -> ModelOutput:
    return ModelOutput(
        tables={
            "churn_scores": TABLES["churn_scores"].empty_frame(),
            "churn_model_report": TABLES["churn_model_report"].empty_frame(),
        },
        metadata={
            "status": "not trained",
            "reason": reason,
            "trained_at": trained_at.isoformat(),
            **split.metadata(),
        },
    )


def build_churn(
    snap: Snapshot, *, high: float = 0.5, medium: float = 0.2, random_state: int = 0
) -> ModelOutput:
    """churn_scores and churn_model_report as of D (see module docstring)."""
    inputs = FeatureInputs.from_snapshot(snap)
    trained_at = end_of_day_utc(snap.as_of)
    split = TimeSplit.build(inputs, population="active")
    y_all = churn_label(split.all)
    if len(np.unique(y_all)) < 2:
        reason = "no labeled snapshots" if len(y_all) == 0 else "labels have a single class"
        return _empty(f"too little history to train: {reason}", trained_at, split)

    y_train, y_valid = churn_label(split.train), churn_label(split.valid)
    evaluable = len(np.unique(y_train)) == 2 and len(y_valid) > 0
    report, curves, valid_scores = [], {}, {}
    for name in MODELS:
        metrics = classification_metrics(np.array([]), np.array([]))
        if evaluable:
            model = make_model(name, random_state).fit(model_matrix(split.train), y_train)
            p = model.predict_proba(model_matrix(split.valid))[:, 1]
            metrics = classification_metrics(y_valid, p)
            valid_scores[name] = p
            if np.isfinite(metrics["auc"]):
                curves[name] = calibration_curve(y_valid, p)
        report.append(
            {
                "model": name,
                **metrics,
                "n_train": len(split.train),
                "positive_rate": float(y_train.mean()) if len(y_train) else np.nan,
                "trained_at": trained_at,
            }
        )
    aucs = {r["model"]: r["auc"] for r in report if np.isfinite(r["auc"])}
    # Ties and the non-evaluable case go to the seed's model, the logistic regression.
    selected = (
        max(aucs, key=lambda m: (aucs[m], m == "logistic_regression"))
        if aucs
        else "logistic_regression"
    )
    for row in report:
        row["selected"] = row["model"] == selected

    x_all = model_matrix(split.all)
    lr = make_model("logistic_regression", random_state).fit(x_all, y_all)
    final = (
        lr
        if selected == "logistic_regression"
        else make_model(selected, random_state).fit(x_all, y_all)
    )
    version = f"{SHORT[selected]}-" + short_sha(
        {
            "model": selected,
            "params": final.get_params(deep=True),
            "days": split.days,
            "n": len(split.all),
            "as_of": snap.as_of,
        }
    )

    now = features_at(inputs, inputs.as_of)
    now = now[now["recency_days"] <= ACTIVE_DAYS - 1]
    x_now = model_matrix(now)
    prob = final.predict_proba(x_now)[:, 1] if len(now) else np.array([])
    scores = pd.DataFrame(
        {
            "account_id": now.index,
            "churn_probability": np.clip(prob, 0.0, 1.0),
            "risk_tier": np.where(prob >= high, "high", np.where(prob >= medium, "medium", "low")),
            "top_drivers": top_drivers(lr, x_now, now) if len(now) else [],
            "model_version": version,
        }
    )
    scores = conform(scores.sort_values("account_id", kind="stable"), TABLES["churn_scores"])
    report_frame = conform(
        pd.DataFrame(report).sort_values("model", kind="stable"), TABLES["churn_model_report"]
    )

    coef = pd.Series(lr.steps[-1][1].coef_[0], index=MODEL_FEATURES).sort_values(
        key=np.abs, ascending=False
    )
    metadata: dict[str, object] = {
        "status": "trained",
        "selected_model": selected,
        "model_version": version,
        "trained_at": trained_at.isoformat(),
        "scored": len(scores),
        "high_risk_share": float((scores["risk_tier"] == "high").mean()) if len(scores) else 0.0,
        "evaluated": bool(evaluable),
        **split.metadata(),
        "report": report_frame.drop(columns=["trained_at"]).round(4).to_markdown(index=False),
        "lr_coefficients": coef.round(4).to_frame("coef").to_markdown(),
    }
    chart = charts.calibration_chart(
        curves, f"Churn calibration (validation {metadata['validation_day']})"
    )
    return ModelOutput(
        tables={"churn_scores": scores, "churn_model_report": report_frame},
        metadata=metadata,
        charts={"churn_calibration": chart},
    )
