"""``c360 bench``: how long a full build takes against what DuckDB needs just to load the same
files, how long reruns take (nothing new landed; one small new file), what share the quality
gates take, and peak memory. Results are appended to BENCHMARKS.md; tests never assert
wall-clock times."""

from __future__ import annotations

import platform
import resource
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.formats import file_format
from ingestion.sql import sql_str

GATE_STEPS = ("raw_quality_gate", "mart_quality_gate")


@dataclass
class BenchResult:
    scale: float
    order_lines: int
    files_mb: float
    baseline_load_s: float
    full_build_s: float
    rerun_unchanged_s: float
    rerun_new_file_s: float
    step_seconds: dict[str, float]
    peak_rss_mb: float

    @property
    def ratio(self) -> float:
        return self.full_build_s / self.baseline_load_s

    @property
    def quality_share(self) -> float:
        return sum(self.step_seconds.get(s, 0.0) for s in GATE_STEPS) / self.full_build_s


def baseline_load_seconds(landing: Path, database: Path) -> float:
    """DuckDB's own readers loading every landed file into a table, nothing else."""
    database.unlink(missing_ok=True)
    start = time.perf_counter()
    con = duckdb.connect(str(database))
    for number, path in enumerate(
        sorted(p for p in landing.rglob("*") if p.is_file() and "_truth" not in p.parts)
    ):
        fmt, file = file_format(path), sql_str(str(path))
        if fmt == "csv":
            reader = f"read_csv({file}, all_varchar = true, ignore_errors = true)"
        elif fmt == "jsonl":
            reader = f"read_json({file}, format = 'newline_delimited', ignore_errors = true)"
        elif fmt == "parquet":
            reader = f"read_parquet({file})"
        else:
            continue
        con.execute(f"create table t{number} as select * from {reader}")
    con.close()
    return time.perf_counter() - start


def _timed_run(landing: Path, warehouse: Path) -> tuple[float, dict[str, float]]:
    from orchestration.runner import execute_job

    start = time.perf_counter()
    result = execute_job(landing=landing, warehouse=warehouse).result
    elapsed = time.perf_counter() - start
    if not result.success:
        raise RuntimeError("the benchmark run failed; run `c360 run` on the same folder to see why")
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }
    return elapsed, steps


def run_benchmark(scale: float, workdir: Path, seed: int = 42) -> BenchResult:
    from ingestion.demo.generator import GenerateOptions, generate

    landing = workdir / "landing"
    if not (landing / "sales" / "orders").exists():
        generate(GenerateOptions(out=landing, scale=scale, seed=seed))
    files_mb = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 1e6
    order_lines = duckdb.sql(
        f"select count(*) from read_csv('{landing}/sales/order_lines/*.csv*', all_varchar = true)"
    ).fetchone()[0]
    baseline = baseline_load_seconds(landing, workdir / "baseline.duckdb")
    warehouse = workdir / "warehouse.duckdb"
    for suffix in ("", ".wal"):
        Path(str(warehouse) + suffix).unlink(missing_ok=True)
    full, steps = _timed_run(landing, warehouse)
    unchanged, _ = _timed_run(landing, warehouse)  # nothing new: files skip, dbt is skipped
    delta = landing / "crm" / "contacts" / f"contacts_bench_{datetime.now(UTC):%Y%m%d%H%M%S}.csv"
    delta.write_text(
        "contact_id,created_at,email,phone,first_name\n"
        f"bench-{delta.stem},2024-01-01 00:00:00,{delta.stem}@example.org,,Ada\n"
    )
    try:
        new_file, _ = _timed_run(landing, warehouse)  # one small file: rebuilds every model
    finally:
        delta.unlink()
    peak = (
        max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        / 1024
    )
    return BenchResult(
        scale, order_lines, files_mb, baseline, full, unchanged, new_file, steps, peak
    )


HEADER = (
    "| when (UTC) | machine | scale | order lines | files MB | DuckDB load s | full build s | "
    "x load | rerun, nothing new s | rerun, one new file s | GX share | peak RSS MB | "
    "slowest steps |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)


def append_markdown(result: BenchResult, path: Path) -> None:
    if not path.exists():
        path.write_text(
            "# Benchmarks\n\nWritten by `c360 bench` (never by hand). Targets: a full build within "
            "about 3x the time DuckDB needs just to load the same files; quality gates at most 15% "
            "of a full run; an incremental run a small fraction of a full one.\n"
        )
    if HEADER not in path.read_text():
        with path.open("a") as handle:  # a new table whenever the columns change
            handle.write("\n" + HEADER)
    slowest = ", ".join(
        f"{name} {seconds:.1f}s"
        for name, seconds in sorted(result.step_seconds.items(), key=lambda kv: -kv[1])[:4]
    )
    machine = f"{platform.machine()} {_cpus()} cpu"
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {machine} | {result.scale} | {result.order_lines:,} | "
        f"{result.files_mb:.1f} | {result.baseline_load_s:.1f} | {result.full_build_s:.1f} | "
        f"{result.ratio:.1f} | {result.rerun_unchanged_s:.1f} | {result.rerun_new_file_s:.1f} | "
        f"{result.quality_share:.0%} | {result.peak_rss_mb:.0f} | {slowest} |\n"
    )
    with path.open("a") as handle:
        handle.write(line)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
