"""Write-audit-publish: copy the audited marts into a new file, then swap it in atomically.

Readers open the serving file read-only and never see the working file, a half-built
copy, or a run whose quality gate failed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import duckdb

from ingestion.sql import ident, sql_str
from orchestration.lib.personal_data import (
    PersonalDataLeak,
    find_clear_personal_data,
    served_expression,
)
from warehouse.connection import connection
from warehouse.faults import crash_point

SERVED_SCHEMAS = ("marts", "metrics", "quality")
# Columns an incremental mart keeps for its own bookkeeping (`_last_load_id`: the load
# that last rewrote the row) are not figures: they are never served.
BOOKKEEPING_PREFIX = "_"
EXPORTED_SCHEMAS = ("marts", "metrics")


class PublishFailed(RuntimeError):
    """The serving copy could not be written; the served file is unchanged."""


# What BI drivers get, whatever the data (README, "How BI tools connect"): counts as
# BIGINT (DuckDB's sums of integers are HUGEINT, which many drivers cannot read), a month
# as the DATE of its first day, money as DECIMAL(18, 4) (sums included).
MONEY_SUFFIXES = ("_clv",)


def bi_typed(expression: str, column: str, data_type: str) -> str:
    """``expression`` cast to the serving type of ``column``, aliased to ``column``."""
    alias = ident(column)
    value = expression.rsplit(" as ", 1)[0] if expression.endswith(f" as {alias}") else expression
    if data_type == "HUGEINT":
        return f"cast({value} as bigint) as {alias}"
    if column.endswith("_month") and data_type.startswith("TIMESTAMP"):
        return f"cast({value} as date) as {alias}"
    if data_type.startswith("DECIMAL(38,"):  # a sum of money: DuckDB widens to 38 digits
        return f"cast({value} as decimal(18, 4)) as {alias}"
    if column.endswith(MONEY_SUFFIXES) and data_type in ("DOUBLE", "FLOAT"):
        return f"cast({value} as decimal(18, 4)) as {alias}"
    return f"{value} as {alias}" if value != alias else alias


# Tables the serving database holds that dbt does not build: their documentation.
OPERATIONAL_TABLES: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("audit", "publish_log"): (
        "The run whose build this serving database holds (one row).",
        {
            "run_id": "Dagster run id of the published build.",
            "as_of": "The day the build describes (events after its end are ignored).",
            "published_at": "When this copy was swapped in (UTC).",
        },
    ),
    ("quality", "check_results"): (
        "Great Expectations results of every run's quality gates, raw and marts.",
        {
            "run_id": "Dagster run id.",
            "suite": "Expectation suite.",
            "layer": "raw or marts.",
            "table_name": "Validated table.",
            "severity": "error (blocks publishing) or warn.",
            "expectation": "Expectation type.",
            "column_name": "Validated column, if any.",
            "success": "Whether the expectation held.",
            "observed_value": "What GX observed (text).",
            "unexpected_count": "Rows that broke it.",
            "element_count": "Rows checked.",
            "details": "GX's result details (JSON text).",
            "checked_at": "When (UTC).",
        },
    ),
    ("quality", "measurements"): (
        "Figures the gates compare between runs (row counts, identity match rate).",
        {
            "run_id": "Dagster run id.",
            "measurement": "What was measured.",
            "value": "Its value.",
            "measured_at": "When (UTC).",
        },
    ),
}


def _comment(con, relation: str, table: str | None, columns: Mapping[str, str | None]) -> None:
    if table:
        con.execute(f"comment on table {relation} is {sql_str(table)}")
    for column, text in columns.items():
        if text:
            con.execute(f"comment on column {relation}.{ident(column)} is {sql_str(text)}")


def publish_serving_database(
    warehouse: Path,
    serving: Path,
    run_id: str,
    as_of: date,
    personal_columns: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    salt: str | None = None,
) -> dict[str, int | str]:
    """Copy every served table into a new file and swap it in. With a ``salt``, the
    declared personal-data columns are copied as salted hashes and the copy is refused
    when any email-shaped text remains (``orchestration/lib/personal_data.py``); without
    one they are copied in clear."""
    personal_columns = personal_columns or {}
    staging_file = serving.with_name(serving.name + ".publishing")
    # a killed publish leaves its copy and write-ahead log; a stale log beside a new copy
    # would be replayed into it, so both go before starting
    leftovers = (staging_file, staging_file.with_name(staging_file.name + ".wal"))
    try:
        serving.parent.mkdir(parents=True, exist_ok=True)
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        tables, leaks = _write_copy(warehouse, staging_file, run_id, as_of, personal_columns, salt)
    except (duckdb.IOException, duckdb.TransactionException, OSError) as exc:
        # a full disk, a quota, a permission: the copy is dropped, the served file is
        # the previous run's, and the message says which file could not be written
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        raise PublishFailed(
            f"not published: writing the serving copy {staging_file} failed "
            f"({str(exc).splitlines()[0]}); {serving} still holds the previous build"
        ) from exc
    if leaks:
        staging_file.unlink(missing_ok=True)
        raise PersonalDataLeak(
            "not published: clear email addresses or customer names in "
            + ", ".join(leaks)
            + " (declare the "
            "column with meta personal_data in its dbt yml, or opt in to clear values with "
            "C360_SERVING_PERSONAL_DATA=clear)"
        )
    os.replace(staging_file, serving)
    return {"tables": tables, "run_id": run_id}


def _write_copy(
    warehouse: Path,
    staging_file: Path,
    run_id: str,
    as_of: date,
    personal_columns: Mapping[tuple[str, str], Mapping[str, str]],
    salt: str | None,
) -> tuple[int, list[str]]:
    """The served tables copied into ``staging_file``; (tables, columns with clear emails)."""
    tables = 0
    with connection(warehouse) as con:
        con.execute(f"attach '{staging_file}' as publish")
        try:
            for schema in SERVED_SCHEMAS:
                names = [
                    r[0]
                    for r in con.execute(
                        "select table_name from information_schema.tables "
                        "where table_catalog = current_database() and table_schema = ? "
                        "and table_type = 'BASE TABLE' order by table_name",
                        [schema],
                    ).fetchall()
                ]
                if not names:
                    continue
                con.execute(f"create schema if not exists publish.{schema}")
                for name in names:
                    kinds = personal_columns.get((schema, name), {})
                    columns = [
                        column
                        for column in con.execute(
                            "select column_name, data_type, comment from duckdb_columns() "
                            "where database_name = current_database() and schema_name = ? "
                            "and table_name = ? order by column_index",
                            [schema, name],
                        ).fetchall()
                        if not column[0].startswith(BOOKKEEPING_PREFIX)
                    ]
                    select = ", ".join(
                        bi_typed(served_expression(c, kinds.get(c), salt), c, data_type)
                        for c, data_type, _ in columns
                    )
                    con.execute(
                        f"create table publish.{schema}.{ident(name)} as "
                        f"select {select} from {schema}.{ident(name)}"
                    )
                    table_comment = con.execute(
                        "select comment from duckdb_tables() where database_name = "
                        "current_database() and schema_name = ? and table_name = ?",
                        [schema, name],
                    ).fetchone()[0]
                    documented = OPERATIONAL_TABLES.get((schema, name), (None, {}))
                    _comment(
                        con,
                        f"publish.{schema}.{ident(name)}",
                        table_comment or documented[0],
                        {c: comment or documented[1].get(c) for c, _, comment in columns},
                    )
                    tables += 1
                    crash_point("publish.mid_copy")
            con.execute("create schema if not exists publish.audit")
            con.execute(
                "create table publish.audit.publish_log as "
                "select ? as run_id, cast(? as date) as as_of, now()::timestamp as published_at",
                [run_id, as_of],
            )
            _comment(
                con, "publish.audit.publish_log", *OPERATIONAL_TABLES[("audit", "publish_log")]
            )
            leaks = (
                find_clear_personal_data(con, "publish", _full_names_query(con, personal_columns))
                if salt is not None
                else []
            )
            # written out here, where a full disk says so ("File too large", "No space
            # left"), rather than inside detach, which only reports that it failed
            con.execute("checkpoint publish")
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # the first error is the one to report
                con.execute("detach publish")
            raise
        con.execute("detach publish")
    return tables, leaks


def _full_names_query(
    con: duckdb.DuckDBPyConnection,
    personal_columns: Mapping[tuple[str, str], Mapping[str, str]],
) -> str | None:
    """The clear names the working warehouse holds in every column declared
    ``personal_data: name`` (the 360's first, last and full names, an action list's...),
    for the guard; None when no such column exists."""
    existing = set(
        con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = current_database()"
        ).fetchall()
    )
    # two words at least: a one-word value ("Test", "Unknown") may be anything else too
    selects = [
        f"select {ident(column)} as full_name from {ident(schema)}.{ident(table)} "
        f"where trim({ident(column)}) like '% %'"
        for (schema, table), kinds in sorted(personal_columns.items())
        for column, kind in sorted(kinds.items())
        if kind == "name" and (schema, table, column) in existing
    ]
    return f"select distinct full_name from ({' union all '.join(selects)})" if selects else None


def export_parquet(serving: Path, exports: Path, run_id: str, keep: int = 3) -> Path:
    """Every published mart and metrics table as Parquet, from the serving copy (hashed
    personal data): ``<exports>/<run id>/<schema>/<table>.parquet``, then
    ``<exports>/latest`` pointed at that folder. Keeps the last ``keep`` runs' folders."""
    folder = exports / run_id
    shutil.rmtree(folder, ignore_errors=True)
    with duckdb.connect(str(serving), read_only=True) as con:
        for schema in EXPORTED_SCHEMAS:
            (folder / schema).mkdir(parents=True)
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by 1",
                [schema],
            ).fetchall():
                target = sql_str(str(folder / schema / f"{name}.parquet"))
                con.execute(f"copy {schema}.{ident(name)} to {target} (format parquet)")
    latest = exports / "latest"
    pointer = exports / f".latest-{run_id}"
    pointer.unlink(missing_ok=True)
    pointer.symlink_to(run_id, target_is_directory=True)
    os.replace(pointer, latest)  # atomic: a reader sees the old run or the new one
    prune_exports(exports, keep)
    return folder


def prune_exports(exports: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` export folders (never the one ``latest`` points
    at); return the folders removed."""
    latest = (exports / "latest").resolve()
    runs = sorted(
        (p for p in exports.iterdir() if p.is_dir() and not p.is_symlink()),
        key=lambda p: p.stat().st_mtime,
    )
    removed = [old for old in runs[: max(len(runs) - keep, 0)] if old.resolve() != latest]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed
