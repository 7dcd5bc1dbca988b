"""``c360``: the command line. Thin: it sets paths and runs the Dagster job in process."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Customer 360 warehouse: generate demo data, run the pipeline.", no_args_is_help=True
)
console = Console()
REPO_ROOT = Path(__file__).resolve().parents[1]


def _as_of_option(value: str | None) -> str | None:
    """Refuse a malformed --as-of at once, naming the flag."""
    from orchestration.lib.settings import SettingsError, parse_as_of

    try:
        parse_as_of(value, "--as-of")
    except SettingsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
    return value


@app.command()
def generate(
    out: Path = typer.Option(..., help="Landing folder to write (created if missing)."),
    scale: float = typer.Option(0.02, help="1 = about 100k contacts and 600k order lines."),
    seed: int = typer.Option(42, help="Random seed: same arguments, same files."),
    start: str = typer.Option("2023-01-01", help="First day of the simulated history."),
    days: int = typer.Option(730, help="Length of the simulated history in days."),
    typo_duplicates: float = typer.Option(
        0.0, help="Share of CRM contacts typed in again with a typo in the email and no phone."
    ),
) -> None:
    """Write deterministic synthetic CRM, sales and social files, with ground truth in _truth/."""
    from ingestion.demo.generator import GenerateOptions
    from ingestion.demo.generator import generate as run_generate

    counts = run_generate(
        GenerateOptions(
            out=out,
            scale=scale,
            seed=seed,
            start=date.fromisoformat(start),
            days=days,
            typo_duplicates=typo_duplicates,
        )
    )
    table = Table("entity", "rows", title=f"Generated into {out}")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


@app.command("map")
def map_export(
    mapping: str = typer.Argument(
        ..., help="A mapping YAML file, or the name of a shipped one (e.g. online_retail)."
    ),
    input_dir: Path = typer.Option(
        ..., "--input", help="Folder holding the export files the mapping names."
    ),
    landing: Path = typer.Option(
        ..., help="Landing folder to write the contract-shaped files into."
    ),
) -> None:
    """Reshape exports in another shape into landing files, as a mapping YAML says."""
    from ingestion.mapping import MappingError, apply_mapping, find_mapping, parse_mapping

    try:
        written = apply_mapping(parse_mapping(find_mapping(mapping)), input_dir, landing)
    except MappingError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for entity, path in written.items():
        console.print(f"{entity}: {path}")


def _summary(outcome) -> None:
    """What this run did: files and rows it loaded (not the warehouse's history), the
    customers and stages it published, its quality results, and where things are."""
    import duckdb

    from warehouse.connection import connection

    settings = outcome.settings
    try:
        with connection(settings.warehouse, read_only=True) as con:
            _print_run_figures(con, outcome.run_id)
    except duckdb.IOException:  # another process is writing the file right now
        console.print("[yellow]The warehouse is in use by another run: no summary.[/yellow]")
    console.print(f"Working warehouse: {settings.warehouse}")
    console.print(f"Serving database (BI, read-only): {settings.serving}")
    from quality.data_docs import SITE

    console.print(f"Data Docs (quality results): {settings.reports / 'gx' / SITE / 'index.html'}")
    if (settings.reports / "report.html").exists():
        console.print(f"Report (open in a browser): {settings.reports / 'report.html'}")
    if (settings.exports / "latest").exists():
        console.print(f"Parquet exports: {settings.exports / 'latest'}")


def _print_run_figures(con, run_id: str) -> None:
    tables = {
        f"{s}.{t}"
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    if "ingest.load_manifest" not in tables:
        console.print("[yellow]Nothing was loaded.[/yellow]")
        return
    loads = con.execute(
        "select source, count(*) filter (where status = 'loaded'), "
        "count(*) filter (where status = 'rejected'), coalesce(sum(rows_loaded), 0), "
        "coalesce(sum(rows_quarantined), 0) from ingest.load_manifest where batch_id = ? "
        "group by source order by source",
        [run_id],
    ).fetchall()
    if loads:
        table = Table(
            "source",
            "files loaded",
            "files rejected",
            "rows loaded",
            "rows quarantined",
            title="Loaded by this run",
        )
        for row in loads:
            table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
        console.print(table)
    elif con.execute("select count(*) from ingest.load_manifest").fetchone()[0]:
        console.print("No new files: every landed file was loaded by an earlier run.")
    else:
        console.print("[yellow]No files have been landed yet: the marts are empty.[/yellow]")
    if "marts.dim_customer_360" not in tables:
        console.print("[yellow]No marts were built.[/yellow]")
        return
    customers = con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
    stages = con.execute(
        "select lifecycle_stage, count(*) from marts.dim_customer_360 group by 1 order by 2 desc"
    ).fetchall()
    stage_table = Table("lifecycle stage", "customers", title=f"{customers:,} unified customers")
    for stage, n in stages:
        stage_table.add_row(stage, f"{n:,}")
    console.print(stage_table)
    checks = con.execute(
        "select severity, count(*) filter (where success), count(*) filter (where not success) "
        "from quality.check_results where run_id = ? group by 1 order by 1",
        [run_id],
    ).fetchall()
    for severity, passed, failed in checks:
        console.print(f"GX {severity}: {passed} expectations passed, {failed} failed")


@app.command()
def run(
    landing: Path | None = typer.Option(None, help="Landing folder (default C360_LANDING_DIR)."),
    warehouse: Path | None = typer.Option(
        None, help="Working DuckDB file (default C360_WAREHOUSE_PATH)."
    ),
    as_of: str | None = typer.Option(
        None,
        help="Build as of the end of this day (YYYY-MM-DD).",
        callback=_as_of_option,
    ),
    full_refresh: bool = typer.Option(
        False,
        help="Rebuild every dbt model from raw, the incremental ones included "
        "(same marts as the incremental runs).",
    ),
    rebuild: bool = typer.Option(
        False, help="Build even when nothing changed since the published build."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Print Dagster's and dbt's full log instead of progress."
    ),
    engine: str = typer.Option(
        "duckdb",
        help="duckdb (the default: the warehouse file, served to BI tools) or spark "
        "(the same models on a local Apache Spark; marts published as Parquet under "
        "<warehouse folder>/spark/marts; needs the spark extra and Java 17).",
    ),
) -> None:
    """Run the whole pipeline: ingest, dbt build, GX checks, publish."""
    from orchestration.lib.settings import SettingsError, resolve_settings
    from orchestration.runner import execute_job

    if engine not in ("duckdb", "spark"):
        console.print(f"[red]--engine must be duckdb or spark, not {engine!r}.[/red]")
        raise typer.Exit(2)
    if engine == "spark":
        _run_on_spark(landing, warehouse, as_of)
        return

    try:
        settings = resolve_settings(
            landing_dir=str(landing or ""), warehouse_path=str(warehouse or "")
        )
    except SettingsError as exc:  # a malformed C360_AS_OF
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if not settings.landing.is_dir():
        console.print(
            f"[red]The landing folder {settings.landing} does not exist "
            "(--landing or C360_LANDING_DIR).[/red]"
        )
        raise typer.Exit(2)
    log_file = None
    if not verbose:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        log_file = settings.reports / "logs" / f"run-{stamp}.log"
        console.print(f"Running on {settings.landing} -> {settings.warehouse} (log: {log_file})")
    outcome = execute_job(landing, warehouse, as_of, full_refresh, rebuild, log_file=log_file)
    busy = [f for f in outcome.failures if "is writing" in f]
    if busy:  # refused before any step ran: nothing to summarise
        console.print(f"[red]Not run: {busy[0].split(': ', 1)[1]}[/red]")
        raise typer.Exit(3)
    if outcome.build_skipped:
        console.print(
            "Nothing changed since the published build: dbt, the mart gate and publishing "
            "were skipped (--rebuild builds anyway)."
        )
    if outcome.settings.warehouse.exists():
        _summary(outcome)
    if not outcome.success:
        for failure in outcome.failures:
            console.print(f"[red]{failure}[/red]")
        console.print(
            "[red]The run failed; the serving database still holds the last good run.[/red]"
            + (f" Full log: {log_file}" if log_file else "")
        )
        raise typer.Exit(1)


def _run_on_spark(landing: Path | None, warehouse: Path | None, as_of: str | None) -> None:
    import importlib.util
    import shutil

    from orchestration.lib.settings import SettingsError, resolve_settings

    missing = [m for m in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(m) is None]
    if missing or not shutil.which("java"):
        console.print(
            "[red]The Spark engine needs the spark extra (`uv sync --extra spark`, which "
            "`make test` installs) and Java 17 (`make java`).[/red]"
        )
        raise typer.Exit(2)
    from orchestration.spark_engine import SparkBuildFailed, SparkPaths, run_on_spark

    try:
        settings = resolve_settings(
            landing_dir=str(landing or ""), warehouse_path=str(warehouse or ""), as_of=as_of or ""
        )
    except SettingsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if not settings.landing.is_dir():
        console.print(f"[red]The landing folder {settings.landing} does not exist.[/red]")
        raise typer.Exit(2)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    console.print(
        f"Running on Spark: {settings.landing} -> {SparkPaths.beside(settings.warehouse).root}"
    )
    try:
        result = run_on_spark(settings)
    except SparkBuildFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for step, seconds in result.seconds.items():
        console.print(f"  {step}: {seconds:.1f} s")
    console.print(
        f"Published {len(result.marts)} marts as of {result.as_of} to "
        f"{SparkPaths.beside(settings.warehouse).root / 'marts'}"
    )


@app.command("dagster-home")
def dagster_home() -> None:
    """Print the Dagster instance folder the CLI uses (created with its dagster.yaml when
    missing): `make dagster` starts the UI on it, so CLI runs show there."""
    from orchestration.lib.instance import ensure_instance_dir
    from orchestration.lib.settings import resolve_settings

    typer.echo(ensure_instance_dir(resolve_settings().dagster_home))


@app.command()
def demo(scale: float = typer.Option(0.02), seed: int = typer.Option(42)) -> None:
    """Generate demo data (first time only) and run the pipeline on it: what `make demo` runs."""
    from orchestration.lib.settings import resolve_settings

    settings = resolve_settings()
    if not (settings.landing / "sales" / "orders").exists():
        generate(
            out=settings.landing,
            scale=scale,
            seed=seed,
            start="2023-01-01",
            days=730,
            typo_duplicates=0.0,
        )
    run(
        landing=None,
        warehouse=None,
        as_of=None,
        full_refresh=False,
        rebuild=False,
        verbose=False,
        engine="duckdb",
    )


@app.command()
def report(
    warehouse: Path | None = typer.Option(
        None,
        help="Working DuckDB file whose serving database to read (default C360_WAREHOUSE_PATH).",
    ),
    out: Path | None = typer.Option(
        None, help="HTML file to write (default <reports>/report.html)."
    ),
) -> None:
    """Write the analytical CRM report (one self-contained HTML file with its charts) from
    the serving database; every publish writes it too."""
    from orchestration.lib.settings import resolve_settings
    from orchestration.report import build_report

    settings = resolve_settings(warehouse_path=str(warehouse or ""))
    if not settings.serving.exists():
        console.print(
            f"[red]No serving database at {settings.serving}: run `c360 run` first.[/red]"
        )
        raise typer.Exit(2)
    path = build_report(settings.serving, out or settings.reports / "report.html")
    console.print(f"Report: {path}")


metrics_app = typer.Typer(
    help="The metrics layer (dbt semantic models queried with MetricFlow) on the serving database.",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")


def _serving_or_exit(warehouse: Path | None) -> Path:
    from orchestration.lib.settings import resolve_settings

    settings = resolve_settings(warehouse_path=str(warehouse or ""))
    if not settings.serving.exists():
        console.print(
            f"[red]No serving database at {settings.serving}: run `c360 run` first.[/red]"
        )
        raise typer.Exit(2)
    return settings.serving


WAREHOUSE_HELP = "Working DuckDB file whose serving database to read (default C360_WAREHOUSE_PATH)."


@metrics_app.command("list")
def metrics_list() -> None:
    """Every metric with its type, description and the categories it can be grouped by,
    then the tables of the serving database's ``metrics`` schema."""
    import duckdb

    from orchestration.lib.semantic_manifest import load_semantic_manifest, saved_queries
    from orchestration.metrics_layer import list_metrics, metricflow_engine

    with duckdb.connect() as con:
        metrics = list_metrics(metricflow_engine(con))
    for m in metrics:
        console.print(f"[bold]{m.name}[/bold] ({m.type}): {m.description}", highlight=False)
        console.print(
            "  group by metric_time__<day|week|month|quarter|year>, " + ", ".join(m.dimensions),
            highlight=False,
        )
    console.print("\n[bold]Published tables[/bold] (serving database, schema metrics):")
    for saved in saved_queries(load_semantic_manifest()):
        params = saved["query_params"]
        by = [_column_of(item) for item in params["group_by"]]
        console.print(
            f"  metrics.{saved['name']}: {', '.join(params['metrics'])} by {', '.join(by)}",
            highlight=False,
        )


def _column_of(group_by: str) -> str:
    """A saved query's group-by as its output column: ``TimeDimension('metric_time',
    'month')`` is metric_time__month, ``Dimension('order__channel')`` order__channel."""
    names = re.findall(r"'([^']+)'", group_by)
    return "__".join(names)


@metrics_app.command("query")
def metrics_query(
    metrics: list[str] = typer.Option(..., "--metric", "-m", help="A metric (repeat the flag)."),
    group_by: list[str] = typer.Option(
        [], "--group-by", "-g", help="e.g. metric_time__month, customer__lifecycle_stage."
    ),
    where: list[str] = typer.Option(
        [], help="A MetricFlow filter, e.g. \"{{ Dimension('order__channel') }} = 'web'\"."
    ),
    order_by: list[str] = typer.Option([], help="A metric or group-by; '-' first for descending."),
    limit: int | None = typer.Option(None, help="At most this many rows."),
    csv: Path | None = typer.Option(None, help="Write the result to this CSV file."),
    show_sql: bool = typer.Option(False, "--sql", help="Print the SQL MetricFlow generated."),
    warehouse: Path | None = typer.Option(None, help=WAREHOUSE_HELP),
) -> None:
    """Query metrics from the serving database (read-only; what BI tools see)."""
    import duckdb
    from metricflow_semantics.errors.error_classes import MetricFlowException

    from orchestration.metrics_layer import metric_sql, metricflow_engine

    serving = _serving_or_exit(warehouse)
    with duckdb.connect(str(serving), read_only=True) as con:
        try:
            sql = metric_sql(
                metricflow_engine(con), metrics, group_by, where, order_by or group_by, limit
            )
        except MetricFlowException as exc:
            console.print(f"[red]{str(exc).strip()}[/red]")
            raise typer.Exit(2) from exc
        if show_sql:
            console.print(sql, markup=False, highlight=False)
        result = con.sql(sql)
        if csv:
            result.write_csv(str(csv))
            console.print(f"{len(result):,} rows -> {csv}")
            return
        table = Table(*result.columns)
        for row in result.fetchall():
            table.add_row(
                *("" if v is None else f"{v:,.4g}" if isinstance(v, float) else str(v) for v in row)
            )
        console.print(table)


@app.command()
def forget(
    email: str = typer.Option("", help="The person's email."),
    phone: str = typer.Option("", help="The person's phone."),
    source_id: str = typer.Option(
        "", help="A source record id, optionally as <record_source>:<id> (crm_contact:C01)."
    ),
    landing: Path | None = typer.Option(None, help="Landing folder (default C360_LANDING_DIR)."),
    warehouse: Path | None = typer.Option(
        None, help="Working DuckDB file (default C360_WAREHOUSE_PATH)."
    ),
) -> None:
    """Erase one person (every record resolved to them) from the warehouse and the serving
    database, rebuild from raw and publish, and write an erasure receipt."""
    from orchestration.erasure import NobodyFound, after_rebuild
    from orchestration.erasure import forget as erase_person
    from orchestration.lib.run_lock import WriterLock
    from orchestration.lib.settings import resolve_settings
    from orchestration.runner import execute_job

    if sum(bool(v) for v in (email, phone, source_id)) != 1:
        console.print("[red]Give exactly one of --email, --phone or --source-id.[/red]")
        raise typer.Exit(2)
    settings = resolve_settings(landing_dir=str(landing or ""), warehouse_path=str(warehouse or ""))
    if not settings.warehouse.exists():
        console.print(f"[red]No warehouse at {settings.warehouse}.[/red]")
        raise typer.Exit(2)
    lock = WriterLock(settings.warehouse)
    lock.acquire("c360-forget", settings.lock_wait_seconds)
    try:
        receipt, person = erase_person(
            settings.warehouse,
            settings.serving,
            settings.reports,
            email,
            phone,
            source_id,
            postgres_dsn=settings.postgres_dsn,
        )
    except NobodyFound as exc:
        console.print(f"Nothing erased: {exc}.")
        raise typer.Exit(1) from exc
    finally:
        lock.release()
    console.print(
        f"Erased {receipt['customers']} customer(s), records {receipt['records']}; "
        f"receipt {receipt['receipt']}"
    )
    if receipt["landed_files_holding_the_person"]:
        console.print(
            "These landed files still hold them (redact at the source): "
            + ", ".join(receipt["landed_files_holding_the_person"])
        )
    outcome = execute_job(landing, warehouse, full_refresh=True)
    if not outcome.success:
        console.print(
            "[red]The rebuild failed; the serving database no longer shows the person, and "
            "the next successful run publishes without them.[/red]"
        )
        raise typer.Exit(1)
    lock.acquire("c360-forget", settings.lock_wait_seconds)
    try:
        cleaned = after_rebuild(
            settings.warehouse,
            settings.exports,
            Path(receipt["receipt"]),
            person,
            scanned=[
                settings.reports,
                settings.exports,
                settings.serving.parent,
                settings.dagster_home,
            ],
            landing=settings.landing,
        )
    finally:
        lock.release()
    console.print(
        "Rebuilt from raw and published without them; the warehouse file rewritten, "
        f"{cleaned['export_folders_removed']} older export folder(s) removed."
    )
    if cleaned["files_still_holding_the_person"]:
        console.print(
            "[red]These files still hold their email or phone: "
            + ", ".join(cleaned["files_still_holding_the_person"])
            + "[/red]"
        )
        raise typer.Exit(1)


def _count_of(text: str, flag: str) -> int:
    """``1M``, ``250k`` or ``10000000`` -> the count."""
    cleaned = text.strip().lower().replace("_", "")
    factor = {"k": 1e3, "m": 1e6}.get(cleaned[-1:], 1)
    try:
        return round(float(cleaned[:-1] if factor != 1 else cleaned) * factor)
    except ValueError as exc:
        raise typer.BadParameter(f"{flag} takes a count such as 1M or 250k, got {text!r}") from exc


def _scale_of(lines: str) -> float:
    """Order lines (``1M``) -> the generator's scale."""
    from orchestration.bench import ORDER_LINES_AT_SCALE_1

    return round(_count_of(lines, "--lines") / ORDER_LINES_AT_SCALE_1, 4)


@app.command()
def bench(
    lines: list[str] = typer.Option(
        [], help="Order lines to generate, e.g. --lines 1M --lines 10M (one run per size)."
    ),
    scale: list[float] = typer.Option(
        [], help="Demo data scale instead of --lines (1 = about 640k order lines)."
    ),
    workdir: Path = typer.Option(
        Path("data/bench"), help="Where the benchmark data and warehouses go."
    ),
    output: Path = typer.Option(
        REPO_ROOT / "BENCHMARKS.md", help="Markdown file to append the results to."
    ),
    json_output: Path = typer.Option(
        REPO_ROOT / "BENCHMARKS.json", "--json", help="JSON file with the figures per size."
    ),
    matching_contacts: list[str] = typer.Option(
        [],
        help="Also time probabilistic matching (Splink) over this many generated CRM "
        "contacts, e.g. --matching-contacts 1M.",
    ),
    days: int = typer.Option(
        1,
        min=1,
        help="Daily deliveries after the history, each run and timed in turn (30 gives "
        "the daily series and its growth).",
    ),
) -> None:
    """Measure the floor, a full build, a run with nothing new and the daily incremental
    runs, per size; append to BENCHMARKS.md and write BENCHMARKS.json."""
    from orchestration.bench import append_markdown, run_benchmark, write_details, write_json

    if matching_contacts and not (lines or scale):
        _bench_matching(matching_contacts, workdir, output, json_output)
        return
    scales = [_scale_of(n) for n in lines] + list(scale) or [0.2]
    results = []
    for each in scales:
        folder = (workdir / f"scale_{each}").resolve()
        folder.mkdir(parents=True, exist_ok=True)
        result = run_benchmark(each, folder, days=days)
        results.append(result)
        # written after each size: a larger size that fails keeps the smaller ones
        append_markdown(result, output)
        write_json([result], json_output)
        write_details(results, output)
        console.print(
            f"{result.order_lines:,} order lines: floor {result.floor_s:.1f}s, full build "
            f"{result.full_s:.1f}s ({result.full_over_floor:.1f}x), daily incremental "
            f"{result.incremental_s:.1f}s ({result.incremental_over_full:.0%} of full), nothing "
            f"new {result.noop_s:.1f}s, GX share {result.quality_share:.0%}, peak "
            f"{result.peak_rss_mb:.0f} MB"
        )
    if matching_contacts:
        _bench_matching(matching_contacts, workdir, output, json_output)
    console.print(f"-> {output}, {json_output}")


def _bench_matching(counts: list[str], workdir: Path, output: Path, json_output: Path) -> None:
    from orchestration.bench import run_matching_benchmark, write_matching

    results = []
    for text in counts:
        result = run_matching_benchmark(_count_of(text, "--matching-contacts"), workdir.resolve())
        results.append(result)
        write_matching(results, output, json_output)
        console.print(
            f"matching {result.records:,} records: {result.seconds:.1f}s, peak "
            f"{result.peak_rss_mb:,.0f} MB, {result.links:,} links, planted copies found "
            f"{result.planted_found:.1%}, links joining one person {result.precision:.2%}"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
