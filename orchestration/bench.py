"""``c360 bench``: what a data engineer's nightly runs cost, measured on one set of files.

Per size: the floor (DuckDB alone loading every landed file into tables), a full build,
a run with nothing new, and the daily incremental run after one more day of data lands
across entities (the last day of the generated history, held back and delivered as a
source would: ingestion/demo/deliveries.py); per-step wall time and the peak memory of
the whole process tree (dbt and the GX child included), sampled from /proc. Results go to
BENCHMARKS.md (a row per size) and BENCHMARKS.json; tests never assert wall-clock times.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.formats import file_format
from ingestion.sql import sql_str

GATE_STEPS = ("raw_quality_gate", "mart_quality_gate")
ORDER_LINES_AT_SCALE_1 = 642_000  # measured: `c360 generate --scale 1`


@dataclass
class BenchResult:
    scale: float
    order_lines: int
    files_mb: float
    floor_s: float
    full_s: float
    noop_s: float
    incremental_s: float
    step_seconds: dict[str, float]
    incremental_step_seconds: dict[str, float]
    peak_rss_mb: float
    # how the data was made (measured when it was generated, kept with the cached files)
    generate_s: float | None = None
    generate_peak_rss_mb: float | None = None
    rows: dict[str, int] | None = None
    # dbt's own timing of its slowest models (run_results.json), full and incremental
    models_full_s: dict[str, float] | None = None
    models_incremental_s: dict[str, float] | None = None
    # with --days N: every daily run in delivery order (the first is ``incremental_s``)
    daily_s: list[float] | None = None

    @property
    def daily_growth(self) -> float | None:
        """Mean of the last five daily runs over the first five: 1.0 when a day's cost does
        not grow with the history before it (at least ten days needed)."""
        if not self.daily_s or len(self.daily_s) < 10:
            return None
        return (sum(self.daily_s[-5:]) / 5) / (sum(self.daily_s[:5]) / 5)

    @property
    def full_over_floor(self) -> float:
        return self.full_s / self.floor_s

    @property
    def incremental_over_full(self) -> float:
        return self.incremental_s / self.full_s

    @property
    def quality_share(self) -> float:
        return sum(self.step_seconds.get(s, 0.0) for s in GATE_STEPS) / self.full_s

    def figures(self) -> dict[str, float | int]:
        """The BENCHMARKS.json keys of one size."""
        return {
            "order_lines": self.order_lines,
            "scale": self.scale,
            "floor_s": round(self.floor_s, 2),
            "full_s": round(self.full_s, 2),
            "full_over_floor": round(self.full_over_floor, 2),
            "incremental_s": round(self.incremental_s, 2),
            "incremental_over_full": round(self.incremental_over_full, 3),
            "noop_s": round(self.noop_s, 2),
            "quality_share": round(self.quality_share, 3),
            "peak_rss_mb": round(self.peak_rss_mb),
            "full_steps_s": {k: round(v, 2) for k, v in self.step_seconds.items()},
            "incremental_steps_s": {
                k: round(v, 2) for k, v in self.incremental_step_seconds.items()
            },
            "generate_s": self.generate_s,
            "generate_peak_rss_mb": self.generate_peak_rss_mb,
            "rows": self.rows,
            "slowest_models_full_s": self.models_full_s,
            "slowest_models_incremental_s": self.models_incremental_s,
            "daily_s": [round(d, 2) for d in self.daily_s] if self.daily_s else None,
            "daily_growth": round(self.daily_growth, 3) if self.daily_growth else None,
        }


class TreeMemorySampler:
    """Peak resident memory of this process and all its descendants, summed, sampled
    every ``interval`` seconds from /proc (Linux). ``getrusage`` only reports the largest
    single process, which misses dbt and the GX child running beside the parent."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(os.getpid()))
            self._stop.wait(self.interval)


def tree_rss_bytes(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


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


# called after each measured run with its name ("full", "nothing_new", "incremental"),
# what the run did (orchestration.runner.RunOutcome) and the warehouse path
RunObserver = Callable[[str, object, Path], None]


def slowest_models(top: int = 8) -> dict[str, float]:
    """dbt's execution time of its slowest nodes in the latest invocation (dagster-dbt
    writes each to its own folder under target/)."""
    from orchestration.lib.settings import DBT_PROJECT_DIR

    results = sorted(
        (DBT_PROJECT_DIR / "target").glob("dbt_models-*/run_results.json"),
        key=lambda path: path.stat().st_mtime,
    )
    if not results:
        return {}
    timings = {
        # resource.package.name, and a test's hash after its name
        r["unique_id"].split(".")[2]: round(r.get("execution_time") or 0.0, 2)
        for r in json.loads(results[-1].read_text()).get("results", [])
    }
    return dict(sorted(timings.items(), key=lambda kv: -kv[1])[:top])


def _timed_run(
    name: str, landing: Path, warehouse: Path, on_run: RunObserver | None
) -> tuple[float, dict[str, float]]:
    from orchestration.runner import execute_job

    start = time.perf_counter()
    log_file = warehouse.parent / "bench.log"  # progress on the terminal, the rest here
    outcome = execute_job(landing=landing, warehouse=warehouse, log_file=log_file)
    elapsed = time.perf_counter() - start
    result = outcome.result
    if not result.success:
        raise RuntimeError("the benchmark run failed; run `c360 run` on the same folder to see why")
    if on_run is not None:
        on_run(name, outcome, warehouse)
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }
    return elapsed, steps


def _landing_copy(source: Path, target: Path) -> None:
    """Hard links where the file system allows: the benchmark's files are never edited."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link, dirs_exist_ok=True)


def run_benchmark(
    scale: float,
    workdir: Path,
    seed: int = 42,
    on_run: RunObserver | None = None,
    days: int = 1,
) -> BenchResult:
    """Generate (cached by scale, seed and days), hold back the last ``days`` days, then
    measure on the rest: floor, full build, nothing new; then land each held-back day in
    turn and run incrementally (``daily_s``; the first is ``incremental_s``, with its
    steps and slowest models). ``on_run`` sees each run's outcome (the smoke test asserts
    what the runs did)."""
    from ingestion.demo.deliveries import DeliveryPlan, split_into_deliveries
    from ingestion.demo.generator import GenerateOptions, generate

    if days < 1:
        raise ValueError(f"days must be 1 or more, got {days}")
    # a series holds no very late history rows: they would all arrive with the last day
    # and make it look like the cost grows with the days
    plan = DeliveryPlan(daily_deliveries=days, very_late_share=0.002 if days == 1 else 0.0)
    # v2: the generator in shards of SHARD_PERSONS people (other files above scale 1)
    data = workdir / f"data_v2_scale{scale}_seed{seed}{f'_days{days}_v3' if days > 1 else ''}"
    if not (data / "ready").exists():
        shutil.rmtree(data, ignore_errors=True)
        with TreeMemorySampler() as generation_memory:
            start = time.perf_counter()
            rows = generate(GenerateOptions(out=data / "generated", scale=scale, seed=seed))
            generate_s = time.perf_counter() - start
        split_into_deliveries(data / "generated", data / "deliveries", plan)
        (data / "ready").write_text(
            json.dumps(
                {
                    "generate_s": round(generate_s, 1),
                    "generate_peak_rss_mb": round(generation_memory.peak_bytes / 2**20),
                    "rows": rows,
                }
            )
        )
    made = json.loads((data / "ready").read_text() or "{}")
    history = data / "deliveries" / "delivery_00"
    later_days = [data / "deliveries" / f"delivery_{day:02d}" for day in range(1, days + 1)]
    files_mb = sum(p.stat().st_size for p in history.rglob("*") if p.is_file()) / 1e6
    order_lines = duckdb.sql(
        f"select count(*) from read_csv('{history}/sales/order_lines/*.csv*', all_varchar = true)"
    ).fetchone()[0]
    floor = baseline_load_seconds(history, workdir / "floor.duckdb")
    run = workdir / "run"
    shutil.rmtree(run, ignore_errors=True)
    landing, warehouse = run / "landing", run / "warehouse.duckdb"
    _landing_copy(history, landing)
    daily: list[float] = []
    with TreeMemorySampler() as memory:
        full, steps = _timed_run("full", landing, warehouse, on_run)
        models_full = slowest_models()
        # nothing new: files skip, the raw gate, dbt and publishing are skipped
        noop, _ = _timed_run("nothing_new", landing, warehouse, on_run)
        for day, delivery in enumerate(later_days):
            _landing_copy(delivery, landing)
            seconds, day_steps = _timed_run(
                "incremental" if day == 0 else f"day_{day + 1:02d}", landing, warehouse, on_run
            )
            daily.append(seconds)
            if day == 0:
                incremental_steps, models_incremental = day_steps, slowest_models()
    return BenchResult(
        scale=scale,
        order_lines=order_lines,
        files_mb=files_mb,
        floor_s=floor,
        full_s=full,
        noop_s=noop,
        incremental_s=daily[0],
        step_seconds=steps,
        incremental_step_seconds=incremental_steps,
        peak_rss_mb=memory.peak_bytes / 2**20,
        generate_s=made.get("generate_s"),
        generate_peak_rss_mb=made.get("generate_peak_rss_mb"),
        rows=made.get("rows"),
        models_full_s=models_full,
        models_incremental_s=models_incremental,
        daily_s=daily if days > 1 else None,
    )


def write_json(results: list[BenchResult], path: Path) -> dict:
    """BENCHMARKS.json: the sizes of this invocation (earlier sizes kept unless measured
    again), and ``growth_full_10x`` when two sizes are about 10x apart."""
    previous = json.loads(path.read_text()) if path.exists() else {}
    sizes = {s["order_lines"]: s for s in previous.get("sizes", [])}
    for result in results:
        sizes = {k: v for k, v in sizes.items() if v.get("scale") != result.scale}
        sizes[result.order_lines] = result.figures()
    ordered = [sizes[k] for k in sorted(sizes)]
    growth = None
    for small in ordered:
        for large in ordered:
            if 8 <= large["order_lines"] / small["order_lines"] <= 12:
                growth = round(large["full_s"] / small["full_s"], 2)
    document = {
        "written_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "machine": f"{platform.machine()} {_cpus()} cpu",
        "sizes": ordered,
        "growth_full_10x": growth,
    }
    path.write_text(json.dumps(document, indent=1) + "\n")
    return document


HEADER = (
    "| when (UTC) | machine | scale | order lines | files MB | floor s (DuckDB load) | "
    "full build s | x floor | daily incremental s | incremental / full | nothing new s | "
    "GX share | peak MB (process tree) | slowest steps, full | slowest steps, incremental |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)


def _slowest(steps: dict[str, float], top: int = 4) -> str:
    return ", ".join(
        f"{name} {seconds:.1f}s"
        for name, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:top]
    )


DETAIL_MARKER = "\n## Latest run in detail\n"


def append_markdown(result: BenchResult, path: Path) -> None:
    """A row in the history table; the detail section (``write_details``) stays last."""
    if not path.exists():
        path.write_text(
            "# Benchmarks\n\nThe tables and the detail section are written by `c360 bench`; "
            "the analysis, when there is one, by hand from them. Targets (2 cores): a full "
            "build at most 3x the floor (DuckDB alone loading the same files); the daily "
            "incremental run at most 10% of the full build and a run with nothing new at most "
            "15 s; quality gates at most 15% of the full build; under 4 GiB at 10M order lines.\n"
        )
    text = path.read_text()
    head, marker, detail = text.partition(DETAIL_MARKER)
    if HEADER not in head:  # a new table whenever the columns change
        head = head.rstrip("\n") + "\n\n" + HEADER
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {platform.machine()} {_cpus()} cpu | "
        f"{result.scale} | {result.order_lines:,} | {result.files_mb:.1f} | {result.floor_s:.1f} | "
        f"{result.full_s:.1f} | {result.full_over_floor:.1f} | {result.incremental_s:.1f} | "
        f"{result.incremental_over_full:.0%} | {result.noop_s:.1f} | {result.quality_share:.0%} | "
        f"{result.peak_rss_mb:.0f} | {_slowest(result.step_seconds)} | "
        f"{_slowest(result.incremental_step_seconds)} |\n"
    )
    path.write_text(head.rstrip("\n") + "\n" + line + marker + detail)


def write_details(results: list[BenchResult], path: Path) -> None:
    """Replace the detail section at the end of BENCHMARKS.md with this invocation's:
    versions, rows per entity, how the data was made, and where the time went."""
    import importlib.metadata

    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "great-expectations")
    )
    lines = [
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {_cpus()} "
        f"cpu, {_memory_gib():.0f} GiB; Python {platform.python_version()}, {versions}.",
    ]
    for r in results:
        lines += ["", f"### {r.order_lines:,} order lines (scale {r.scale})", ""]
        if r.generate_s is not None:
            lines.append(
                f"- Data generated in {r.generate_s:.0f} s, peak {r.generate_peak_rss_mb:,.0f} MB "
                "(process tree); rows: "
                + ", ".join(f"{k} {v:,}" for k, v in sorted((r.rows or {}).items()))
                + "."
            )
        lines += [
            f"- Floor {r.floor_s:.1f} s; full build {r.full_s:.1f} s ({r.full_over_floor:.1f}x); "
            f"nothing new {r.noop_s:.1f} s; daily incremental {r.incremental_s:.1f} s "
            f"({r.incremental_over_full:.0%} of full); quality gates {r.quality_share:.0%} of "
            f"full; peak {r.peak_rss_mb:,.0f} MB.",
            f"- Full build by step: {_slowest(r.step_seconds, 8)}.",
            f"- Full build, slowest dbt models: {_slowest(r.models_full_s or {}, 8)}.",
            f"- Daily incremental by step: {_slowest(r.incremental_step_seconds, 8)}.",
            f"- Daily incremental, slowest dbt models: "
            f"{_slowest(r.models_incremental_s or {}, 8)}.",
        ]
        if r.daily_s:
            lines.append(
                f"- {len(r.daily_s)} consecutive daily deliveries, s: "
                + ", ".join(f"{d:.1f}" for d in r.daily_s)
                + (
                    f"; the last five over the first five: {r.daily_growth:.2f}."
                    if r.daily_growth
                    else "."
                )
            )
    head = path.read_text().partition(DETAIL_MARKER)[0] if path.exists() else ""
    path.write_text(head.rstrip("\n") + "\n" + DETAIL_MARKER + "\n" + "\n".join(lines) + "\n")


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- probabilistic matching ------------------------------------------------------------

CONTACTS_AT_SCALE_1 = 98_000  # CRM contacts per unit of demo scale (152k at scale 1.56)


@dataclass(frozen=True)
class MatchingResult:
    contacts: int
    records: int
    planted: int
    seconds: float
    peak_rss_mb: float
    links: int
    planted_found: float  # share of planted typo copies linked to their original
    precision: float  # of the links: share joining records of one person

    def figures(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def run_matching_benchmark(contacts: int, workdir: Path, seed: int = 42) -> MatchingResult:
    """Splink (warehouse.matching) over generated CRM contacts with 2% planted typo copies:
    time and peak memory of the process tree, links, and how many are right. The
    contacts are taken as the pipeline would compare them, without the pipeline around."""
    from ingestion.demo.generator import GenerateOptions, generate
    from warehouse.matching import probabilistic_links

    scale = round(contacts / CONTACTS_AT_SCALE_1, 4)
    data = workdir / f"matching_scale{scale}_seed{seed}"
    if not (data / "ready").exists():
        shutil.rmtree(data, ignore_errors=True)
        generate(GenerateOptions(out=data, scale=scale, seed=seed, typo_duplicates=0.02))
        (data / "ready").write_text("")
    folder = data / "crm" / "contacts"
    # the placeholders blanked, as int_identity_match_candidates does in the pipeline
    placeholders = json.loads((data / "_truth" / "generation.json").read_text())["placeholders"]
    frame = duckdb.sql(
        f"select 'crm_contact:' || contact_id as record_key, lower(trim(first_name)) as "
        "first_name, lower(trim(last_name)) as last_name, lower(trim(email)) as email, "
        "regexp_replace(phone, '[^0-9]', '', 'g') as phone, country from read_csv("
        f"'{folder}/contacts_*.csv', all_varchar = true) where filename not like "
        "'%corrections%' qualify row_number() over (partition by contact_id) = 1",
    ).df()
    frame.loc[frame["email"] == placeholders["email"].lower(), "email"] = None
    digits = frame["phone"].fillna("")
    repeated = digits.str.len().gt(0) & digits.map(lambda p: len(set(p[-10:])) <= 1)
    frame.loc[repeated | digits.eq(""), "phone"] = None
    planted = pd.read_csv(data / "_truth" / "typo_duplicates.csv", dtype=str)
    person = pd.read_csv(data / "_truth" / "identity.csv", dtype=str)
    person = person[person["source"] == "crm_contact"].drop_duplicates("record_id")
    person = person.set_index("record_id")["person_id"]
    with TreeMemorySampler() as memory:
        start = time.perf_counter()
        links = probabilistic_links(frame.sort_values("record_key", ignore_index=True), 0.99)
        seconds = time.perf_counter() - start
    ids = [links[c].str.removeprefix("crm_contact:") for c in ("record_key_l", "record_key_r")]
    same_person = ids[0].map(person).to_numpy() == ids[1].map(person).to_numpy()
    pairs = set(zip(ids[0], ids[1], strict=True)) | set(zip(ids[1], ids[0], strict=True))
    planted_pairs = zip(planted["record_id"], planted["original_id"], strict=True)
    found = sum(pair in pairs for pair in planted_pairs)
    return MatchingResult(
        contacts=len(frame) - len(planted),
        records=len(frame),
        planted=len(planted),
        seconds=seconds,
        peak_rss_mb=memory.peak_bytes / 2**20,
        links=len(links),
        planted_found=found / max(len(planted), 1),
        precision=float(same_person.mean()) if len(links) else float("nan"),
    )


MATCHING_MARKER = "## Probabilistic matching"


def write_matching(results: list[MatchingResult], markdown: Path, json_path: Path) -> None:
    """The matching figures: ``matching`` in BENCHMARKS.json, and a section of
    BENCHMARKS.md before the detail section (replaced on every measurement)."""
    document = json.loads(json_path.read_text()) if json_path.exists() else {}
    document["matching"] = [r.figures() for r in results]
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        MATCHING_MARKER,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `c360 bench --matching-contacts`: "
        "Splink (`warehouse/matching.py`) over generated CRM contacts with 2% planted typo "
        "copies, on its own (the pipeline around it not timed).",
        "",
        "| contacts | records compared | planted copies | seconds | peak MB (process tree) | "
        "links | planted copies found | links joining one person |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.contacts:,} | {r.records:,} | {r.planted:,} | {r.seconds:.1f} | "
        f"{r.peak_rss_mb:,.0f} | {r.links:,} | {r.planted_found:.1%} | {r.precision:.2%} |"
        for r in results
    ]
    text = markdown.read_text() if markdown.exists() else ""
    if MATCHING_MARKER in text:  # drop the previous section, up to the next heading
        start = text.index(MATCHING_MARKER)
        end = text.find("\n## ", start + len(MATCHING_MARKER))
        text = text[:start] + (text[end + 1 :] if end != -1 else "")
    at = text.find(DETAIL_MARKER)
    section = "\n".join(lines) + "\n\n"
    # a blank line first, or the section's heading would end the table above it
    if at == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        text = text[:at].rstrip("\n") + "\n\n" + section + text[at:]
    markdown.write_text(text)
