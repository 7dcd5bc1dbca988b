"""Run GX suites in-database against the warehouse and store every result.

Results go to ``quality.check_results`` (one row per expectation per suite per run) so BI
can chart data quality, and Data Docs are rebuilt into the reports folder. What a later
run compares against (row counts, the identity match rate) is kept in one table,
``quality.measurements``. Validation runs in a child process that sends its outcomes back
to the caller once (``run_suites_isolated``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import duckdb

from ingestion.contracts import load_contracts
from quality import data_docs, gx_duckdb
from quality.suites import ERROR, QualityContext, SuiteSpec
from warehouse.connection import connect

log = logging.getLogger(__name__)

RESULTS_DDL = """
create schema if not exists quality;
create table if not exists quality.check_results (
    run_id varchar,
    suite varchar,
    layer varchar,
    table_name varchar,
    severity varchar,
    expectation varchar,
    column_name varchar,
    success boolean,
    observed_value varchar,
    unexpected_count bigint,
    element_count bigint,
    details varchar,
    checked_at timestamp
);
create table if not exists quality.measurements (
    run_id varchar,
    measurement varchar,
    value double,
    measured_at timestamp
);
-- bookkeeping of the raw gate, not served: which loads' rows passed their raw rules
create schema if not exists ops;
create table if not exists ops.validated_loads (
    load_id bigint,
    raw_table varchar,
    run_id varchar,
    validated_at timestamp
);
"""
MATCH_RATE = "identity_match_rate"


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed_value: object
    unexpected_count: int | None
    element_count: int | None
    details: str


@dataclass
class SuiteOutcome:
    suite: SuiteSpec
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]


def _row_count(table: str) -> str:
    return f"row_count:{table}"


def _previous_measurements(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """The latest value of every measurement any earlier run recorded."""
    return dict(
        con.execute(
            "select measurement, arg_max(value, measured_at) from quality.measurements "
            "group by measurement"
        ).fetchall()
    )


def _record_measurements(
    con: duckdb.DuckDBPyConnection, run_id: str, suites: Iterable[SuiteSpec]
) -> None:
    """Row counts of the validated tables and the identity match rate, for the next run."""
    tables = sorted({f"{s.layer}.{s.table}" for s in suites})
    values = [
        (_row_count(t), con.execute(f"select count(*) from {t}").fetchone()[0]) for t in tables
    ]
    if "marts.customer_identity_map" in tables:
        values.append(
            (
                MATCH_RATE,
                con.execute(
                    "select avg(case when linked_by <> 'unlinked' then 1.0 else 0.0 end) "
                    "from marts.customer_identity_map"
                ).fetchone()[0],
            )
        )
    con.executemany(
        "insert into quality.measurements values (?, ?, ?, now()::timestamp)",
        [(run_id, name, value) for name, value in values if value is not None],
    )


def _table_exists(con: duckdb.DuckDBPyConnection, layer: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [layer, table],
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class UncheckedRows:
    """What a raw table holds that no passing raw gate has checked: the rows of loads not
    yet validated, and rows written around the loader (no load id), checked every time."""

    load_ids: tuple[int, ...]
    without_load_id: bool

    def where(self) -> str:
        """The SQL condition that selects exactly these rows."""
        conditions = []
        if self.load_ids:
            conditions.append(f"_load_id in ({', '.join(map(str, self.load_ids))})")
        if self.without_load_id:
            conditions.append("_load_id is null")
        return " or ".join(conditions)


def unchecked_rows(warehouse_path: Path) -> dict[str, UncheckedRows]:
    """Per raw table of a contract, the rows no passing raw gate has checked yet.

    Raw is append-only and a row's contract rules depend on the row alone, so the rows of a
    load that passed stay valid: the next raw gate checks only these (an empty answer means
    there is nothing new to check). The rows of a load whose gate failed stay here until a
    gate passes them.
    """
    con = connect(warehouse_path)
    try:
        return unchecked_rows_of(con)
    finally:
        con.close()


def unchecked_rows_of(con: duckdb.DuckDBPyConnection) -> dict[str, UncheckedRows]:
    """``unchecked_rows`` on an open connection (one pass over each table's load ids)."""
    con.execute(RESULTS_DDL)
    found = {}
    for contract in load_contracts():
        if not _table_exists(con, "raw", contract.name):
            continue
        load_ids, without_load_id = con.execute(
            f"""
            select
                list(distinct _load_id order by _load_id) filter (
                    where _load_id not in (select load_id from ops.validated_loads)
                ),
                coalesce(bool_or(_load_id is null), false)
            from raw.{contract.name}
            """
        ).fetchone()
        if load_ids or without_load_id:
            found[contract.name] = UncheckedRows(tuple(load_ids or ()), without_load_id)
    return found


def run_suites(
    warehouse_path: Path,
    suites: Iterable[SuiteSpec],
    run_id: str,
    data_docs_dir: Path | None = None,
    max_component_size: int = 50,
    new_rows_only: bool = False,
) -> list[SuiteOutcome]:
    """Validate each suite's table in DuckDB through GX; store and return the outcomes.

    With ``new_rows_only`` the raw row rules check only the rows no passing gate has
    checked (``unchecked_rows``), and a raw table without any is not checked; otherwise
    every suite validates its whole table (a full refresh, the tests).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no internet to report to
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from quality.expectations import build_expectations

    suites = list(suites)
    con = connect(warehouse_path)
    try:
        con.execute(RESULTS_DDL)
        previous = _previous_measurements(con)
        context_values = QualityContext(
            previous_row_counts={
                name.removeprefix("row_count:"): int(value)
                for name, value in previous.items()
                if name.startswith("row_count:")
            },
            max_component_size=max_component_size,
            previous_match_rate=previous.get(MATCH_RATE),
        )
        # taken before validating: exactly these loads are recorded as validated after
        unchecked = unchecked_rows_of(con) if new_rows_only else None
        present = [
            s
            for s in suites
            if _table_exists(con, s.layer, s.table)
            and (unchecked is None or not s.checks_rows or s.table in unchecked)
        ]
    finally:
        con.close()

    gx_duckdb.register()
    if data_docs_dir is not None:
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context = gx.get_context(mode="file", project_root_dir=str(data_docs_dir))
    else:
        context = gx.get_context(mode="ephemeral")
    # progress bars are for notebooks; in a pipeline they only flood the step log
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    _forget_previous_runs(context, data_docs_dir, [s.name for s in present])
    started = datetime.now(UTC)
    source_name = f"warehouse_{run_id}".replace("-", "_")
    datasource = context.data_sources.add_or_update_sql(
        name=source_name, connection_string=gx_duckdb.connection_string(str(warehouse_path))
    )
    outcomes: list[SuiteOutcome] = []
    try:
        assets: dict[str, object] = {}
        for spec in present:
            asset_name = f"{spec.layer}.{spec.table}"
            if unchecked is not None and spec.checks_rows:
                # the rows no passing gate has checked, not the whole history
                asset_name += ".unchecked_rows"
                assets[asset_name] = datasource.add_query_asset(
                    name=asset_name,
                    query=f"select * from {spec.layer}.{spec.table} "
                    f"where {unchecked[spec.table].where()}",
                ).add_batch_definition_whole_table("unchecked_rows")
            elif asset_name not in assets:
                assets[asset_name] = datasource.add_table_asset(
                    name=asset_name, table_name=spec.table, schema_name=spec.layer
                ).add_batch_definition_whole_table("whole_table")
            suite = context.suites.add_or_update(
                gx.ExpectationSuite(
                    name=spec.name, expectations=build_expectations(spec, context_values)
                )
            )
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=f"{spec.name}", data=assets[asset_name], suite=suite)
            )
            result = definition.run()
            outcome = SuiteOutcome(spec)
            for item in result.results:
                config = item.expectation_config
                res = item.result or {}
                exception = (item.exception_info or {}).get("exception_message")
                outcome.outcomes.append(
                    ExpectationOutcome(
                        expectation=config.type,
                        column=config.kwargs.get("column")
                        or (",".join(config.kwargs.get("column_list", [])) or None),
                        success=bool(item.success),
                        observed_value=res.get("observed_value"),
                        # UnexpectedRowsExpectation reports its row count as the observed value
                        unexpected_count=res.get("unexpected_count")
                        if res.get("unexpected_count") is not None
                        or config.type != "unexpected_rows_expectation"
                        else res.get("observed_value"),
                        element_count=res.get("element_count"),
                        details=exception or (config.description or ""),
                    )
                )
            outcomes.append(outcome)
        if data_docs_dir is not None:
            _build_data_docs(context, data_docs_dir, started)
    finally:
        datasource.get_execution_engine().engine.dispose()
    _store(warehouse_path, run_id, outcomes, present, unchecked)
    return outcomes


def _build_data_docs(context, project_root: Path, started: datetime) -> None:
    """Render this run's result pages only: GX would otherwise render every stored result
    again on every run. The suites' own pages are not rendered either: a result page lists
    every expectation of its suite with its outcome. Then make the site readable offline."""
    data_docs.prune(project_root)
    new_results = [
        key
        for key in context.validation_results_store.list_keys()
        if key.run_id.run_time and key.run_id.run_time >= started
    ]
    context.build_data_docs(resource_identifiers=new_results, build_index=False)
    data_docs.make_offline(project_root)


def _forget_previous_runs(context, project_root: Path | None, suite_names: list[str]) -> None:
    """Drop validation definitions and datasources a previous run left in the file context.

    A stored definition points at that run's datasource; once that datasource is gone (or
    was never saved, after a crash) GX refuses to load or replace it ("Could not find
    datasource"). The definition files are removed from the store directly, since GX's own
    delete must load them first. Validation results, which Data Docs render, are kept.
    """
    if project_root is not None:
        store = project_root / "gx" / "validation_definitions"
        for name in suite_names:
            (store / f"{name}.json").unlink(missing_ok=True)
    for name in [n for n in context.data_sources.all() if str(n).startswith("warehouse_")]:
        with contextlib.suppress(Exception):
            context.data_sources.delete(name=name)


def _record_validated_loads(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcomes: list[SuiteOutcome],
    unchecked: dict[str, UncheckedRows] | None,
) -> None:
    """The loads whose rows passed their raw rules in this run: later gates skip them.
    ``unchecked`` names the loads that were validated; None means whole tables were."""
    for outcome in outcomes:
        if not outcome.suite.checks_rows or not outcome.success:
            continue
        table = outcome.suite.table
        if unchecked is not None:
            load_ids = list(unchecked[table].load_ids)
        else:
            load_ids = [
                load_id
                for (load_id,) in con.execute(
                    f"select distinct _load_id from raw.{table} where _load_id is not null"
                ).fetchall()
            ]
        con.execute(
            "insert into ops.validated_loads "
            "select load_id, ?, ?, now()::timestamp from unnest(?::bigint[]) as ids(load_id) "
            "where load_id not in (select load_id from ops.validated_loads)",
            [table, run_id, load_ids],
        )


def _store(
    warehouse_path: Path,
    run_id: str,
    outcomes: list[SuiteOutcome],
    suites: list[SuiteSpec],
    unchecked: dict[str, UncheckedRows] | None = None,
) -> None:
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            run_id,
            o.suite.name,
            o.suite.layer,
            o.suite.table,
            o.suite.severity,
            e.expectation,
            e.column,
            e.success,
            None if e.observed_value is None else json.dumps(e.observed_value, default=str),
            e.unexpected_count,
            e.element_count,
            e.details,
            checked_at,
        )
        for o in outcomes
        for e in o.outcomes
    ]
    con = connect(warehouse_path)
    try:
        con.execute(RESULTS_DDL)
        if rows:
            con.executemany(
                "insert into quality.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        _record_measurements(con, run_id, suites)
        _record_validated_loads(con, run_id, outcomes, unchecked)
    finally:
        con.close()


def blocking_failures(warehouse_path: Path, run_id: str) -> list[tuple]:
    """Error-severity expectations that failed in this run: the audit step of
    write-audit-publish reads the stored record, whatever the orchestrator did."""
    con = connect(warehouse_path)
    try:
        con.execute(RESULTS_DDL)
        return con.execute(
            "select suite, expectation, column_name, unexpected_count, observed_value "
            "from quality.check_results where run_id = ? and severity = ? and not success",
            [run_id, ERROR],
        ).fetchall()
    finally:
        con.close()


# Validation runs in a child process (see ``run_suites_isolated``). Children are forked from
# a server process that has already imported Great Expectations, so the ~10 s import is paid
# once per pipeline process, in the background, instead of once per gate on the critical path.
_PRELOAD = [
    "quality",  # first: its guard must run before GX imports PySpark (quality/__init__.py)
    "great_expectations",
    "quality.runner",
    "quality.expectations",
]
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_processes = multiprocessing.get_context(_START_METHOD)
if _START_METHOD == "forkserver":
    _processes.set_forkserver_preload(_PRELOAD)


def prewarm() -> None:
    """Start the validation server now so its imports overlap with ingestion and dbt.

    Returns at once: the server imports GX in its own process while the caller carries on.
    """
    if _START_METHOD == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _validate_in_child(
    reply: Connection,
    environ: dict[str, str],
    warehouse_path: Path,
    suite_names: list[str],
    run_id: str,
    data_docs_dir: Path | None,
    new_rows_only: bool,
) -> None:
    import traceback

    from quality.suites import all_suites
    from warehouse.child_process import end_with_parent

    # the validation server dies with the run; this child, which writes the results into
    # the warehouse, must not outlive it
    end_with_parent()
    os.environ.clear()
    os.environ.update(environ)  # the caller's, not the server's (which started earlier)
    try:
        wanted = set(suite_names)
        outcomes = run_suites(
            warehouse_path,
            [s for s in all_suites() if s.name in wanted],
            run_id,
            data_docs_dir,
            new_rows_only=new_rows_only,
        )
        reply.send(outcomes)
    except BaseException:
        reply.send(traceback.format_exc())
        raise
    finally:
        reply.close()


def run_suites_isolated(
    warehouse_path: Path,
    suites: Iterable[SuiteSpec],
    run_id: str,
    data_docs_dir: Path | None = None,
    new_rows_only: bool = False,
) -> list[SuiteOutcome]:
    """Run the suites in a child process and return the outcomes it sends back.

    GX keeps its DuckDB connection alive inside the process that validated, which holds the
    file lock and blocks the next writer (dbt runs as a separate process). A child process
    releases everything when it exits.
    """
    suites = list(suites)
    receive, send = _processes.Pipe(duplex=False)
    child = _processes.Process(
        target=_validate_in_child,
        args=(
            send,
            dict(os.environ),
            warehouse_path,
            [s.name for s in suites],
            run_id,
            data_docs_dir,
            new_rows_only,
        ),
        name=f"gx-{run_id}",
    )
    child.start()
    send.close()
    try:
        answer = receive.recv()
    except EOFError:  # the child died before it could answer (killed, out of memory)
        answer = "the validation process ended without reporting"
    child.join()
    if isinstance(answer, str) or child.exitcode != 0:
        raise RuntimeError(
            f"GX validation failed to run (exit code {child.exitcode}):\n{str(answer)[-4000:]}"
        )
    return answer
