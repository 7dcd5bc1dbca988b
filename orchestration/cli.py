"""``c360``: the command line. Thin: it sets paths and runs the Dagster job in process."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    help="Customer 360 warehouse: generate demo data, run the pipeline.", no_args_is_help=True
)
console = Console()
REPO_ROOT = Path(__file__).resolve().parents[1]


def _quiet_telemetry() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@app.command()
def generate(
    out: Path = typer.Option(..., help="Landing folder to write (created if missing)."),
    scale: float = typer.Option(0.02, help="1 = about 100k contacts and 600k order lines."),
    seed: int = typer.Option(42, help="Random seed: same arguments, same files."),
    start: str = typer.Option("2023-01-01", help="First day of the simulated history."),
    days: int = typer.Option(730, help="Length of the simulated history in days."),
) -> None:
    """Write deterministic synthetic CRM, sales and social files, with ground truth in _truth/."""
    from ingestion.demo.generator import GenerateOptions
    from ingestion.demo.generator import generate as run_generate

    counts = run_generate(
        GenerateOptions(out=out, scale=scale, seed=seed, start=date.fromisoformat(start), days=days)
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


def execute_job(
    landing: Path | None = None,
    warehouse: Path | None = None,
    as_of: str | None = None,
    full_refresh: bool = False,
    rebuild: bool = False,
):
    """Run ``c360_build_job`` in process and return Dagster's result (events, timings)."""
    _quiet_telemetry()
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.lib.settings import C360Settings

    if full_refresh:
        target = warehouse or C360Settings().warehouse
        for suffix in ("", ".wal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
    config = {
        "landing_dir": str(landing.resolve()) if landing else "",
        "warehouse_path": str(warehouse.resolve()) if warehouse else "",
        "as_of": as_of or "",
        "skip_unchanged": not rebuild,
    }
    job = defs.resolve_job_def("c360_build_job")
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={
            "resources": {"c360": {"config": config}},
            # the CLI prints its own summary; Dagster's step log is for the UI and for debugging
            "loggers": {
                "console": {"config": {"log_level": os.environ.get("C360_LOG_LEVEL", "WARNING")}}
            },
        },
        raise_on_error=False,
    )


def run_pipeline(
    landing: Path | None = None,
    warehouse: Path | None = None,
    as_of: str | None = None,
    full_refresh: bool = False,
    rebuild: bool = False,
) -> bool:
    """Run ``c360_build_job`` in process; return whether it succeeded."""
    return execute_job(landing, warehouse, as_of, full_refresh, rebuild).success


def _summary(warehouse: Path, serving: Path, reports: Path) -> None:
    from ingestion.warehouse import connection

    with connection(warehouse, read_only=True) as con:
        loads = con.execute(
            "select source, sum(rows_landed), sum(rows_loaded), sum(rows_quarantined), "
            "count(*) filter (where status = 'rejected') from ingest.load_manifest "
            "group by source order by source"
        ).fetchall()
        table = Table(
            "source", "landed", "loaded", "quarantined", "files rejected", title="Ingestion"
        )
        for row in loads:
            table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
        console.print(table)
        built = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'dim_customer_360'"
        ).fetchone()[0]
        if not built:
            console.print("[yellow]No marts were built.[/yellow]")
            return
        customers = con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
        stages = con.execute(
            "select lifecycle_stage, count(*) from marts.dim_customer_360 group by 1 order by 2 desc"
        ).fetchall()
        stage_table = Table(
            "lifecycle stage", "customers", title=f"{customers:,} unified customers"
        )
        for stage, n in stages:
            stage_table.add_row(stage, f"{n:,}")
        console.print(stage_table)
        checks = con.execute(
            "select severity, count(*) filter (where success), count(*) filter (where not success) "
            "from quality.check_results where run_id = (select arg_max(run_id, checked_at) "
            "from quality.check_results) group by 1 order by 1"
        ).fetchall()
        for severity, passed, failed in checks:
            console.print(f"GX {severity}: {passed} expectations passed, {failed} failed")
    console.print(f"Working warehouse: {warehouse}")
    console.print(f"Serving database (BI, read-only): {serving}")
    console.print(f"Data Docs: {reports / 'gx'}")


@app.command()
def run(
    landing: Path | None = typer.Option(None, help="Landing folder (default C360_LANDING_DIR)."),
    warehouse: Path | None = typer.Option(
        None, help="Working DuckDB file (default C360_WAREHOUSE_PATH)."
    ),
    as_of: str | None = typer.Option(None, help="Build as of the end of this day (YYYY-MM-DD)."),
    full_refresh: bool = typer.Option(False, help="Start from an empty working warehouse."),
    rebuild: bool = typer.Option(
        False, help="Build even when nothing changed since the published build."
    ),
) -> None:
    """Run the whole pipeline: ingest, dbt build, GX checks, publish."""
    from orchestration.lib.settings import C360Settings

    result = execute_job(landing, warehouse, as_of, full_refresh, rebuild)
    ok = result.success
    skipped = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    if ok and "serving__warehouse" in skipped:
        console.print(
            "Nothing changed since the published build: dbt, the mart gate and publishing "
            "were skipped (--rebuild builds anyway)."
        )
    settings = C360Settings(warehouse_path=str(warehouse.resolve()) if warehouse else "")
    if settings.warehouse.exists():
        _summary(settings.warehouse, settings.serving, settings.reports)
    if not ok:
        console.print(
            "[red]The run failed; the serving database still holds the last good run.[/red]"
        )
        raise typer.Exit(1)


@app.command()
def demo(scale: float = typer.Option(0.02), seed: int = typer.Option(42)) -> None:
    """Generate demo data (first time only) and run the pipeline on it: what `make demo` runs."""
    from orchestration.lib.settings import C360Settings

    settings = C360Settings()
    if not (settings.landing / "sales" / "orders").exists():
        generate(out=settings.landing, scale=scale, seed=seed, start="2023-01-01", days=730)
    run(landing=None, warehouse=None, as_of=None, full_refresh=False, rebuild=False)


@app.command()
def bench(
    scale: float = typer.Option(
        0.2, help="Demo data scale (1 = about 600k order lines; about 16 for the 10M target)."
    ),
    workdir: Path = typer.Option(
        Path("data/bench"), help="Where the benchmark data and warehouse go."
    ),
    output: Path = typer.Option(
        REPO_ROOT / "BENCHMARKS.md", help="Markdown file to append the result to."
    ),
) -> None:
    """Time a full build against DuckDB just loading the same files, plus an incremental rerun."""
    from orchestration.bench import append_markdown, run_benchmark

    workdir = (workdir / f"scale_{scale}").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    result = run_benchmark(scale, workdir)
    append_markdown(result, output)
    console.print(
        f"{result.order_lines:,} order lines: DuckDB load {result.baseline_load_s:.1f}s, full build "
        f"{result.full_build_s:.1f}s ({result.ratio:.1f}x), reruns {result.rerun_unchanged_s:.1f}s "
        f"(nothing new) and {result.rerun_new_file_s:.1f}s (one new file), "
        f"GX share {result.quality_share:.0%}, peak RSS {result.peak_rss_mb:.0f} MB -> {output}"
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
