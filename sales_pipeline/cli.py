"""`sales-pipeline generate | run | demo | ui | sql | explain | retention`: a thin click wrapper, no pipeline logic.

Exit codes (contract section 4): 0 every partition succeeded, 1 a partition failed or was
blocked (each named), 2 usage errors.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sales_pipeline.core.config import SettingsError, load_settings, require_landing

# A log file or CI has no terminal width; 80 columns would truncate the summary table.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
DEMO_KEY_ACCOUNTS = 3
"""Champions the demo plants as key accounts (`crm_generator` `key_accounts`)."""


def _parse_day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=flag) from None


def analytics_days(spec: str, days: list[date]) -> set[date]:
    """--analytics all | last | none | comma-separated days (each within the run's range)."""
    spec = spec.strip().lower()
    if spec == "all":
        return set(days)
    if spec == "last":
        return {days[-1]} if days else set()
    if spec == "none":
        return set()
    chosen = {_parse_day(part.strip(), "--analytics") for part in spec.split(",") if part.strip()}
    outside = sorted(d for d in chosen if d not in set(days))
    if outside:
        raise click.BadParameter(
            f"{', '.join(map(str, outside))} outside --from/--to", param_hint="--analytics"
        )
    return chosen


def month_ends(days: list[date]) -> set[date]:
    return {d for d in days if (d + timedelta(days=1)).day == 1} | ({days[-1]} if days else set())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """sales_pipeline: CRM exports in, trustworthy sales analytics out (Dagster + Parquet)."""


@main.command()
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="landing root to write",
)
@click.option(
    "--days", required=True, type=click.IntRange(min=1), help="number of daily export folders"
)
@click.option("--accounts", default=300, show_default=True, type=click.IntRange(min=10))
@click.option(
    "--format",
    "fmt",
    default="canonical",
    show_default=True,
    type=click.Choice(["canonical", "salesforce", "hubspot", "mixed"]),
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--start", default="2024-01-01", show_default=True, help="first landing day")
@click.option("--clean", "clean", is_flag=True, help="no planted bad rows")
@click.option(
    "--file-errors", is_flag=True, help="also plant unreadable files (they block their days)"
)
def generate(
    out: Path,
    days: int,
    accounts: int,
    fmt: str,
    seed: int,
    start: str,
    clean: bool,
    file_errors: bool,
) -> None:
    """Write a synthetic, deterministic landing zone (<out>/<YYYY-MM-DD>/...) and its manifest."""
    from crm_generator import generate as generate_zone

    manifest = generate_zone(
        out,
        days=days,
        accounts=accounts,
        fmt=fmt,
        seed=seed,
        start=_parse_day(start, "--start"),
        dirty=not clean,
        file_errors=file_errors,
    )
    files = manifest["files"] if isinstance(manifest, dict) else manifest.files
    console.print(
        f"wrote {len(files)} files for {days} days to {out} (manifest: {out / '_generator' / 'manifest.json'})"
    )


def _settings_overrides(
    landing: Path | None, warehouse: str | None, settings_file: Path | None
) -> dict:
    return {
        "landing": str(landing) if landing else None,
        "warehouse": str(warehouse) if warehouse else None,
        "settings_file": str(settings_file) if settings_file else None,
    }


def execute(
    day_from: date,
    day_to: date,
    overrides: dict,
    analytics: str,
    *,
    expected_blocked: set[str] | None = None,
    force: bool = False,
    rerun_downstream: bool = False,
) -> int:
    """Materialise every asset for the days in order; returns the exit code."""
    import dagster as dg

    from sales_pipeline.analytics_lane import BackgroundAnalytics, worker_wanted
    from sales_pipeline.core.resources import PipelineSettings
    from sales_pipeline.definitions import build_defs
    from sales_pipeline.resume import Ledger
    from sales_pipeline.runner import built_analytics_days, ensure_dagster_home, run_days

    try:
        config = load_settings(overrides)
        require_landing(config)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    if day_to < day_from:
        raise click.UsageError(f"--to {day_to} is before --from {day_from}")
    if day_from < config.start_date:
        raise click.UsageError(
            f"--from {day_from} is before the first partition {config.start_date} (set SALES_PIPELINE_START_DATE or start_date in the settings file)"
        )
    days = [day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1)]
    chosen = analytics_days(analytics, days)

    ensure_dagster_home(config)
    defs = build_defs(settings=PipelineSettings.from_overrides(overrides))
    last_complete = date.today() - timedelta(days=1)
    if day_to > last_complete:
        raise click.UsageError(
            f"--to {day_to}: a day's partition exists once the day is over (last: {last_complete})"
        )

    outcomes = []
    if not warehouse_module().is_remote(config.warehouse):
        from sales_pipeline.core.storage.sweep import MAX_AGE_SECONDS, sweep_temporaries

        swept = sweep_temporaries(config.warehouse)
        if swept:
            console.print(
                f"removed {len(swept)} writer temporaries older than "
                f"{MAX_AGE_SECONDS / 3600:g} h (left by a killed run)"
            )
    with dg.DagsterInstance.get() as instance, _progress() as progress:
        built = built_analytics_days(config.warehouse) if rerun_downstream else []
        downstream = [d for d in built if d >= day_from and d not in chosen]
        task = progress.add_task("days", total=len(days) + len(chosen) + len(downstream))
        counted: set[tuple[date, str]] = set()

        def step(day: date, phase: str, status: str) -> None:
            # A span reports each day as it is cleaned, then once more when the run ends.
            advance = 0 if (day, phase) in counted else 1
            counted.add((day, phase))
            progress.update(task, advance=advance, description=f"{day} {phase} {status}")

        def on_outcome(outcome) -> None:
            outcomes.append(outcome)
            planted = not outcome.success and _expected(outcome, expected_blocked)
            status = (
                "skipped"
                if outcome.skipped
                else "ok"
                if outcome.success
                else "blocked (planted)"
                if planted
                else "FAILED"
            )
            step(outcome.day, outcome.phase, status)
            for error in outcome.errors:
                # A failure the generator planted on purpose is expected: say so as it happens.
                line = Text(f"{outcome.day} {outcome.phase}: ")
                line.append(
                    "planted, blocked as expected: " if planted else "",
                    style="yellow",
                )
                line.append(error, style="yellow" if planted else "red")
                progress.console.print(line, soft_wrap=True)

        ledger = Ledger(config, force=force)
        lane = (
            BackgroundAnalytics(overrides, ledger, force=force)
            if worker_wanted(len(chosen) + len(downstream))
            else None
        )
        try:
            with _day_progress(lambda day: step(day, "ingest", "cleaned")):
                run_days(
                    defs,
                    days,
                    chosen,
                    instance,
                    on_outcome=on_outcome,
                    ledger=ledger,
                    rerun_downstream=built if rerun_downstream else None,
                    lane=lane,
                )
        finally:
            if lane is not None:
                lane.close()

    _summary(outcomes, config.warehouse)
    failed = [o for o in outcomes if not o.success]
    unexpected = [o for o in failed if not _expected(o, expected_blocked)]
    if failed and not unexpected:
        console.print(
            f"{len(failed)} run(s) failed as planted by the generator (blocked files); see quarantine and ingest_audit."
        )
        return 0
    if unexpected:
        err_console.print(f"[red]{len(unexpected)} run(s) failed:[/red]")
        for outcome in unexpected:
            for error in outcome.errors:
                err_console.print(Text(f"  {outcome.day} {outcome.phase}: {error}"), soft_wrap=True)
        return 1
    return 0


def _expected(outcome, expected_blocked: set[str] | None) -> bool:
    if not expected_blocked:
        return False
    return outcome.phase == "ingest" and outcome.day.isoformat() in expected_blocked


@contextmanager
def _day_progress(callback):
    """Follow the ingest's per-day progress records while a multi-day run goes on."""

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            day = getattr(record, "day", None)
            if day:
                callback(date.fromisoformat(day))

    logger = logging.getLogger("sales_pipeline.progress")
    handler = _Handler()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def warehouse_module():
    from sales_pipeline.core import warehouse

    return warehouse


def _summary(outcomes, warehouse_root: Path) -> None:
    from sales_pipeline.core import warehouse

    table = Table(title="sales-pipeline run")
    for column in (
        "day",
        "ingest",
        "files",
        "read",
        "clean",
        "quarantined",
        "duplicate",
        "analytics",
        "seconds",
    ):
        table.add_column(
            column,
            justify="right" if column not in ("day", "ingest", "analytics") else "left",
            no_wrap=True,
            min_width=10 if column == "day" else None,
        )
    by_day: dict[date, dict] = {}
    for o in outcomes:
        by_day.setdefault(o.day, {})[o.phase] = o
    shown = by_day
    if len(by_day) > 40:
        # A year of days does not fit a terminal: keep analytics days and failures.
        shown = {
            d: p
            for d, p in by_day.items()
            if "analytics" in p or not all(o.success for o in p.values())
        }
        console.print(
            f"{len(by_day)} days run; the table shows the {len(shown)} with analytics or failures"
        )
    for day, phases in shown.items():
        ingest = phases.get("ingest")
        # Only an audit this run wrote: a failed day must not show an earlier run's numbers.
        audit = (
            warehouse.read_partition(warehouse_root, "ingest_audit", day)
            if ingest is not None and ingest.wrote_audit
            else None
        )
        analytics = phases.get("analytics")
        sums = [
            str(int(audit[c].sum())) if audit is not None else "-"
            for c in ("rows_read", "rows_clean", "rows_quarantined", "rows_duplicate")
        ]
        table.add_row(
            day.isoformat(),
            "ok" if ingest and ingest.success else "blocked" if audit is not None else "failed",
            str(len(audit)) if audit is not None else "-",
            *sums,
            "-" if analytics is None else ("ok" if analytics.success else "failed"),
            f"{sum(o.seconds for o in phases.values()):.1f}",
        )
    console.print(table)


@main.command()
@click.option("--from", "day_from", required=True, help="first landing day (YYYY-MM-DD)")
@click.option("--to", "day_to", required=True, help="last landing day (YYYY-MM-DD)")
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path))
@click.option("--warehouse", metavar="PATH|URL", help="a folder, or s3://bucket/prefix")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="settings file (TOML/YAML)",
)
@click.option(
    "--analytics", default="all", show_default=True, help="all | last | none | comma-separated days"
)
@click.option("--force", is_flag=True, help="redo days already materialised from the same inputs")
@click.option(
    "--rerun-downstream",
    is_flag=True,
    help="after re-ingesting a day, also rebuild every analytics day from it on already in the warehouse (their state includes it)",
)
def run(
    day_from: str,
    day_to: str,
    landing: Path | None,
    warehouse: str | None,
    settings_file: Path | None,
    analytics: str,
    force: bool,
    rerun_downstream: bool,
) -> None:
    """Materialise every asset for the days --from..--to, in order."""
    code = execute(
        _parse_day(day_from, "--from"),
        _parse_day(day_to, "--to"),
        _settings_overrides(landing, warehouse, settings_file),
        analytics,
        force=force,
        rerun_downstream=rerun_downstream,
    )
    sys.exit(code)


@main.command()
@click.option(
    "--out",
    "out",
    default="data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="writes <out>/landing and <out>/warehouse",
)
@click.option("--accounts", default=300, show_default=True, type=click.IntRange(min=10))
@click.option("--months", default=13, show_default=True, type=click.IntRange(min=1, max=36))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="redo days already materialised from the same inputs")
def demo(out: Path, accounts: int, months: int, seed: int, force: bool) -> None:
    """Generate dirty mixed-vendor exports, ingest every day, build analytics per month-end and the last day."""
    import json

    from crm_generator import generate as generate_zone

    start = date(2024, 1, 1)
    end_month = start.month - 1 + months
    end = date(start.year + end_month // 12, end_month % 12 + 1, 1) - timedelta(days=1)
    days = (end - start).days + 1
    landing, warehouse_root = out / "landing", out / "warehouse"
    console.print(f"generating {days} days of exports for {accounts} accounts into {landing} ...")
    generate_zone(
        landing,
        days=days,
        accounts=accounts,
        fmt="mixed",
        seed=seed,
        start=start,
        dirty=True,
        file_errors=True,
        # The contract's key-account rule (5M a year, 3 years of tenure) is out of reach of a
        # generated company's ordinary customers; a few planted ones show it working.
        key_accounts=DEMO_KEY_ACCOUNTS,
    )
    manifest = json.loads((landing / "_generator" / "manifest.json").read_text(encoding="utf-8"))
    planted_blocked = {
        f["source_file"].split("/")[0] for f in manifest["files"] if f.get("status") == "blocked"
    }
    all_days = [start + timedelta(days=i) for i in range(days)]
    chosen = ",".join(d.isoformat() for d in sorted(month_ends(all_days)))
    overrides = {
        "landing": str(landing),
        "warehouse": str(warehouse_root),
        "start_date": start.isoformat(),
    }
    os.environ.setdefault("SALES_PIPELINE_PII_KEY", "demo-only-key-not-secret")
    code = execute(start, end, overrides, chosen, expected_blocked=planted_blocked, force=force)
    _written(warehouse_root)
    _headline(warehouse_root)
    _look_at_it(warehouse_root)
    sys.exit(code)


def _as_typed(path: Path | str) -> str:
    """A path as the user can type it from here: relative when under the working directory."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _command(*args: str) -> str:
    """This CLI as invoked now (e.g. `.venv/bin/sales-pipeline`), so hints work as printed
    without an activated venv."""
    script = Path(sys.argv[0])
    exe = _as_typed(script) if script.name == "sales-pipeline" and script.exists() else None
    return " ".join([exe or f"{_as_typed(sys.executable)} -m sales_pipeline.cli", *args])


def _headline(root: Path) -> None:
    """The last month's headline KPIs (overall) as of the latest analytics day."""
    from sales_pipeline.core import warehouse

    days = warehouse.list_partitions(root, "kpi_summary")
    if not days:
        return
    kpis = warehouse.read_partition(root, "kpi_summary", days[-1])
    month = kpis[(kpis["period_grain"] == "month") & (kpis["dimension"] == "overall")]
    if month.empty:
        return
    row = month.sort_values("period_start").iloc[-1]
    audits = [
        warehouse.read_partition(root, "ingest_audit", d)
        for d in warehouse.list_partitions(root, "ingest_audit")
    ]
    read = sum(int(a["rows_read"].sum()) for a in audits)
    quarantined = sum(int(a["rows_quarantined"].sum()) for a in audits)
    table = Table(title=f"headline KPIs, {str(row['period_start'])[:7]} (as of {days[-1]})")
    currency = load_settings({}).currency
    for column in (
        f"revenue ({currency})",
        "orders",
        "win rate",
        "attainment",
        "pipeline",
        "quarantined rows",
    ):
        table.add_column(column, justify="right", no_wrap=True)

    def pct(value) -> str:
        return "-" if value is None or value != value else f"{float(value):.1%}"

    def money(value) -> str:
        return "-" if value is None or value != value else f"{float(value):,.0f}"

    table.add_row(
        money(row.get("revenue")),
        f"{int(row['orders']):,}" if row.get("orders") == row.get("orders") else "-",
        pct(row.get("win_rate")),
        pct(row.get("attainment")),
        money(row.get("pipeline_amount")),
        f"{quarantined:,} of {read:,} ({quarantined / read:.1%})" if read else "-",
    )
    console.print(table)


def _look_at_it(root: Path) -> None:
    """Where the results are, with commands that run as printed from here."""
    warehouse_arg = _as_typed(root)
    glob = f"{warehouse_arg}/kpi_summary/*/*.parquet"
    query = (
        "select period_start, round(revenue) as revenue, round(win_rate, 3) as win_rate "
        f"from read_parquet('{glob}', hive_partitioning=true) "
        "where date = (select max(date) from read_parquet("
        f"'{glob}', hive_partitioning=true)) and period_grain = 'month' "
        "and dimension = 'overall' order by 1"
    )
    python = _as_typed(sys.executable)
    console.print("\n[bold]Look at it[/bold]")
    console.print(f"  charts (PNG): {warehouse_arg}/_charts/", soft_wrap=True, markup=False)
    console.print(
        f"  UI:     {_command('ui', '--warehouse', warehouse_arg)}   (then http://127.0.0.1:3000)",
        soft_wrap=True,
        markup=False,
    )
    console.print("  DuckDB: monthly revenue and win rate as of the last day:", soft_wrap=True)
    console.print(
        f'    {python} -c "import duckdb; duckdb.sql(\\"{query}\\").show()"',
        soft_wrap=True,
        markup=False,
    )


def _written(root: Path) -> None:
    """What the run wrote: every table with its partitions and the rows of the latest one."""
    from sales_pipeline.core import warehouse
    from schemas import TABLES

    table = Table(title=f"written to {root}")
    for column in ("table", "partitions", "latest", "rows in latest"):
        table.add_column(column, no_wrap=True)
    for name in TABLES:
        days = warehouse.list_partitions(root, name)
        if days:
            rows = len(warehouse.read_partition(root, name, days[-1]))
            table.add_row(name, str(len(days)), days[-1], str(rows))
    console.print(table)


@main.command()
@click.option("--day", "day", required=True, help="as-of day D of the kpi_summary partition")
@click.option("--grain", default="month", show_default=True, type=click.Choice(["day", "month"]))
@click.option("--period", required=True, help="period_start of the row (YYYY-MM-DD)")
@click.option("--dimension", default="overall", show_default=True)
@click.option("--value", "dimension_value", default="all", show_default=True)
@click.option("--metric", required=True, help="a kpi_summary metric column, e.g. revenue")
@click.option("--warehouse", metavar="PATH|URL", help="a folder, or s3://bucket/prefix")
@click.option("--settings", "settings_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", default=30, show_default=True, help="rows to print")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path))
def explain(
    day: str,
    grain: str,
    period: str,
    dimension: str,
    dimension_value: str,
    metric: str,
    warehouse: str | None,
    settings_file: Path | None,
    limit: int,
    csv_path: Path | None,
) -> None:
    """Explain one kpi_summary cell: its rows, their landing rows and the exact arithmetic."""
    from assets.kpi_logic.explain import Cell
    from sales_pipeline.explain import run_explain

    try:
        cell = Cell(grain, _parse_day(period, "--period"), dimension, dimension_value, metric)
        config = load_settings(_settings_overrides(None, warehouse, settings_file))
    except (ValueError, SettingsError) as exc:
        raise click.UsageError(str(exc)) from exc
    sys.exit(
        run_explain(
            config, _parse_day(day, "--day"), cell, limit=limit, csv=csv_path, console=console
        )
    )


@main.command()
@click.option("--warehouse", metavar="PATH|URL", help="a folder, or s3://bucket/prefix")
@click.option("--port", default=3000, show_default=True, type=int)
def ui(warehouse: str | None, port: int) -> None:
    """Start the Dagster UI on 127.0.0.1 with the same instance the CLI records runs in."""
    from sales_pipeline.runner import ensure_dagster_home

    config = load_settings({"warehouse": str(warehouse) if warehouse else None})
    ensure_dagster_home(config)
    env = dict(os.environ)
    if warehouse:
        env["SALES_PIPELINE_WAREHOUSE"] = str(warehouse)
    workspace = Path(__file__).resolve().parent.parent / "workspace.yaml"
    # Through this interpreter, not `dagster` on PATH: `.venv/bin/sales-pipeline ui` must work
    # without an activated venv.
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
    command += (
        ["-w", str(workspace)] if workspace.is_file() else ["-m", "sales_pipeline.definitions"]
    )
    sys.exit(subprocess.call(command, env=env))


@main.command()
@click.option("--warehouse", metavar="PATH|URL", help="a folder, or s3://bucket/prefix")
@click.option("--settings", "settings_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--keep-analytics-days",
    default=90,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="SALES_PIPELINE_KEEP_ANALYTICS_DAYS",
    help="analytics partitions kept (plus every month's last one)",
)
@click.option(
    "--keep-quarantine-days",
    default=90,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="SALES_PIPELINE_KEEP_QUARANTINE_DAYS",
    help="quarantine partitions kept",
)
@click.option(
    "--keep-run-days",
    default=90,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="SALES_PIPELINE_KEEP_RUN_DAYS",
    help="days of finished runs kept in the Dagster instance",
)
@click.option("--today", "today", default=None, help="as-of day (default: today)")
@click.option(
    "--dry-run/--apply",
    "dry_run",
    default=True,
    show_default=True,
    help="list what would be deleted (default) or delete it",
)
def retention(
    warehouse: str | None,
    settings_file: Path | None,
    keep_analytics_days: int,
    keep_quarantine_days: int,
    keep_run_days: int,
    today: str | None,
    dry_run: bool,
) -> None:
    """Delete old analytics and quarantine partitions and old runs (lists them unless --apply)."""
    import dagster as dg

    from sales_pipeline import retention as policy_module
    from sales_pipeline.runner import ensure_dagster_home

    try:
        config = load_settings(_settings_overrides(None, warehouse, settings_file))
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    as_of = _parse_day(today, "--today") if today else date.today()
    policy = policy_module.Policy(keep_analytics_days, keep_quarantine_days, keep_run_days)
    root = config.warehouse
    if warehouse_module().is_remote(root):
        raise click.UsageError(
            f"retention deletes local folders; {root} is an object store: use its lifecycle rules"
        )
    ensure_dagster_home(config)
    with dg.DagsterInstance.get() as instance:
        # Runs age against the same as-of day as partitions (now, shifted by --today).
        now = datetime.now().astimezone() + (as_of - date.today())
        chosen = policy_module.plan(
            root, as_of, policy, tables=policy_module.analytics_tables(), instance=instance, now=now
        )
        verb = "would delete" if dry_run else "deleting"
        for folder in chosen.partitions:
            console.print(f"{verb} {_as_typed(folder)}", soft_wrap=True, markup=False)
        for run_id in chosen.runs:
            console.print(f"{verb} run {run_id}", markup=False)
        for path in chosen.temporaries:
            console.print(f"{verb} stale temporary {_as_typed(path)}", soft_wrap=True, markup=False)
        for line in chosen.skipped:
            err_console.print(Text(f"refused: {line}", style="yellow"), soft_wrap=True)
        if dry_run:
            console.print(
                f"dry run: {len(chosen.partitions)} partition folder(s) and {len(chosen.runs)} "
                f"run(s) would be deleted under {_as_typed(root)}, and "
                f"{len(chosen.temporaries)} stale writer temporaries; rerun with --apply to delete"
            )
            return
        refused = len(chosen.skipped)
        folders, runs = policy_module.apply(root, chosen, instance)
        for line in chosen.skipped[refused:]:
            err_console.print(Text(f"refused: {line}", style="yellow"), soft_wrap=True)
    console.print(
        f"deleted {folders} partition folder(s), {runs} run(s) and "
        f"{len(chosen.temporaries)} stale writer temporaries"
    )


@main.command()
@click.option("--warehouse", metavar="PATH|URL", help="a folder, or s3://bucket/prefix")
@click.option(
    "--write",
    "write",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write a DuckDB database file with the views (for DuckDB ODBC, Power BI, Tableau) and exit",
)
@click.option("-c", "--command", "command", help="run one SQL statement, print it and exit")
def sql(warehouse: str | None, write: Path | None, command: str | None) -> None:
    """DuckDB views over the warehouse: <table>, <entity>_current, <table>_latest; a SQL prompt."""
    from sales_pipeline import bi

    try:
        config = load_settings({"warehouse": str(warehouse) if warehouse else None})
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    if warehouse_module().is_remote(config.warehouse):
        raise click.UsageError(
            f"{config.warehouse} is an object store: point DuckDB's httpfs at it instead"
            " (README, warehouse on object storage)"
        )
    if not config.warehouse.is_dir():
        raise click.UsageError(f"no warehouse at {config.warehouse} (run the pipeline first)")
    if write:
        write.unlink(missing_ok=True)  # views only: rebuilding is cheap and always current
    con = bi.connect(config.warehouse, write or ":memory:")
    views = bi.view_names(con)
    if write:
        con.close()
        console.print(f"wrote {len(views)} views over {config.warehouse} to {write}")
        return
    if command:
        con.sql(command).show(max_rows=50)
        return
    console.print(f"{len(views)} views: {', '.join(views)}", soft_wrap=True)
    console.print(
        "SQL ending with ';' (e.g. select * from kpi_summary_latest limit 5;), 'exit' to quit"
    )
    _sql_prompt(con)


def _sql_prompt(con) -> None:
    buffer: list[str] = []
    while True:
        try:
            line = input("sql> " if not buffer else "...> ")
        except EOFError:
            return
        if not buffer and line.strip().lower() in ("exit", "quit", ".quit", "\\q"):
            return
        buffer.append(line)
        if not line.rstrip().endswith(";"):
            continue
        statement, buffer = "\n".join(buffer), []
        try:
            result = con.sql(statement)
            if result is not None:
                result.show(max_rows=50)
        except Exception as exc:  # a typo in a query must not end the session
            err_console.print(Text(f"error: {exc}", style="red"))


if __name__ == "__main__":
    main()
