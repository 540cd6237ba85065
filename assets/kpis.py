"""KPI layer: kpi_summary, kpi_funnel, campaign_roi and kpi_alerts as of D."""

from datetime import date, timedelta

import dagster as dg

from assets.analytics_common import (
    PipelineSettings,
    Warehouse,
    analytics_out,
    emit_tables,
    model_metadata,
    snapshot_ins,
    to_snapshot,
    write_charts,
)
from assets.kpi_logic import (
    build_campaign_roi,
    build_kpi_alerts,
    build_kpi_funnel,
    build_kpi_summary,
    funnel_chart,
    kpi_headlines,
    revenue_vs_target_chart,
)
from assets.kpi_logic.explain import command_for
from sales_pipeline.core.checks import schema_spec
from schemas import TABLES

GROUP = "kpis"
KPI_TABLES = ("kpi_summary", "kpi_funnel", "campaign_roi")


def _explain_help(day: date) -> str:
    """How to trace any cell of this partition to its landing rows (shown in the UI)."""
    return (
        "Trace any cell to the rows that make it (record, version, fx rate, landing file/row) "
        "and the exact integer-cent arithmetic:\n\n"
        f"```\n{command_for(day)}\n```\n\n"
        "`--grain day|month`, `--dimension overall|region|owner|product|segment`, `--value`, "
        "`--metric` any kpi_summary metric."
    )


def build_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="kpis",
        outs={name: analytics_out(name, GROUP) for name in KPI_TABLES},
        ins={**snapshot_ins(), "customer_segments": dg.AssetIn("customer_segments")},
        partitions_def=partitions_def,
        check_specs=[schema_spec(name, partitions_def=partitions_def) for name in KPI_TABLES],
        description="Dense KPI history (day and month x overall/region/owner/product/segment), funnel and campaign ROI.",
    )
    def kpis(
        context: dg.AssetExecutionContext,
        settings: PipelineSettings,
        warehouse: Warehouse,
        customer_segments,
        **inputs,
    ):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        snap = to_snapshot(day, inputs, config, warehouse)
        summary = build_kpi_summary(snap, tz=config.timezone, segments=customer_segments)
        funnel = build_kpi_funnel(snap, tz=config.timezone, segments=customer_segments)
        roi = build_campaign_roi(snap)
        charts = {"revenue_vs_target": revenue_vs_target_chart(summary)}
        funnel_png = {"funnel": funnel_chart(funnel)}
        # Alerts are a separate asset; its metadata carries the alert headlines.
        headlines = kpi_headlines(summary, TABLES["kpi_alerts"].empty_frame(), day)
        headlines = {k: v for k, v in headlines.items() if not k.startswith("alerts")}
        yield from emit_tables(
            {"kpi_summary": summary, "kpi_funnel": funnel, "campaign_roi": roi},
            {
                "kpi_summary": {
                    **model_metadata(headlines),
                    "explain": dg.MetadataValue.md(_explain_help(day)),
                    **write_charts(warehouse, "kpi_summary", day, charts),
                },
                "kpi_funnel": write_charts(warehouse, "kpi_funnel", day, funnel_png),
            },
        )

    @dg.multi_asset(
        name="alerts",
        outs={"kpi_alerts": analytics_out("kpi_alerts", GROUP)},
        ins={
            "kpi_summary": dg.AssetIn("kpi_summary"),
            "churn_scores": dg.AssetIn("churn_scores"),
            **snapshot_ins(),
        },
        partitions_def=partitions_def,
        check_specs=[schema_spec("kpi_alerts", partitions_def=partitions_def)],
        description="Monitoring alerts: attainment, win rate, sales cycle, churn risk, data quality.",
    )
    def alerts(
        context: dg.AssetExecutionContext,
        settings: PipelineSettings,
        warehouse: Warehouse,
        kpi_summary,
        churn_scores,
        **inputs,
    ):
        config = settings.resolve()
        day = date.fromisoformat(context.partition_key)
        audit = warehouse.read_window("ingest_audit", end=day, day_column="_landing_day")
        table = build_kpi_alerts(
            to_snapshot(day, inputs, config, warehouse),
            kpi_summary,
            tz=config.timezone,
            thresholds=config.thresholds,
            max_quarantine_share=config.max_quarantine,
            churn_scores=churn_scores,
            audit=audit,
            drift=warehouse.read_window(
                "schema_drift",
                start=day - timedelta(days=config.thresholds.drift_alert_days - 1),
                end=day,
                day_column="_landing_day",
                missing_ok=True,
            ),
        )
        headlines = kpi_headlines(kpi_summary, table, day)
        extra = {
            **model_metadata(headlines),
            "raised": dg.MetadataValue.md(
                table[
                    ["alert_code", "severity", "dimension", "dimension_value", "message"]
                ].to_markdown(index=False)
                if len(table)
                else "_no alerts_"
            ),
        }
        yield from emit_tables({"kpi_alerts": table}, {"kpi_alerts": extra})

    return [kpis, alerts]
