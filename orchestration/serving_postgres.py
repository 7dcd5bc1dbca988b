"""Publish the serving tables to PostgreSQL too, for BI tools without a DuckDB driver.

Optional (``C360_POSTGRES_DSN``; the ``postgres`` extra installs psycopg). It reads the
published serving file, so PostgreSQL gets exactly what DuckDB readers get: the same
tables, BI types, comments and hashed personal data. DuckDB's own postgres extension is
not used: it cannot be installed offline for our DuckDB version.

Write-audit-publish holds here as well: in one PostgreSQL transaction each schema is
loaded into ``<schema>__publishing`` with COPY, the old schema is dropped and the new one
renamed in its place. PostgreSQL's DDL is transactional, so a reader sees the previous
run or this one, never a mix, and a failure part way leaves the previous run in place.
Views that BI users create on these tables are dropped with the old copy (they bind to
the table, not its name): keep them in a schema of your own and recreate them, or point
the BI tool at the tables directly.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from ingestion.sql import ident, sql_str
from orchestration.serving import PublishFailed

PUBLISHED_SCHEMAS = ("marts", "metrics", "quality", "audit")
STAGING_SUFFIX = "__publishing"

SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "HUGEINT": "numeric(39, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "VARCHAR": "text",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
}


def postgres_type(duckdb_type: str) -> str | None:
    """The PostgreSQL column type for a DuckDB one; None: sent as text (lists, structs,
    maps and other nested types arrive as their DuckDB text form)."""
    if duckdb_type in SIMPLE_TYPES:
        return SIMPLE_TYPES[duckdb_type]
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.replace("DECIMAL", "numeric").lower()
    return None


def publish_to_postgres(serving: Path, dsn: str) -> dict[str, int]:
    """Copy every table of the served schemas into PostgreSQL; return rows per table."""
    import psycopg

    copied: dict[str, int] = {}
    with (
        duckdb.connect(str(serving), read_only=True) as source,
        tempfile.TemporaryDirectory(prefix="c360-pg-") as scratch,
    ):
        tables = source.execute(
            "select schema_name, table_name, comment from duckdb_tables() "
            "where database_name = current_database() order by schema_name, table_name"
        ).fetchall()
        schemas = [s for s in PUBLISHED_SCHEMAS if any(t[0] == s for t in tables)]
        try:
            with psycopg.connect(dsn) as pg, pg.transaction(), pg.cursor() as cursor:
                for schema in schemas:
                    staging = ident(schema + STAGING_SUFFIX)
                    cursor.execute(f"drop schema if exists {staging} cascade")
                    cursor.execute(f"create schema {staging}")
                for schema, table, comment in tables:
                    if schema in schemas:
                        copied[f"{schema}.{table}"] = _copy_table(
                            source, cursor, schema, table, comment, Path(scratch)
                        )
                for schema in schemas:  # the swap: readers see the old or the new
                    cursor.execute(f"drop schema if exists {ident(schema)} cascade")
                    cursor.execute(
                        f"alter schema {ident(schema + STAGING_SUFFIX)} rename to {ident(schema)}"
                    )
        except psycopg.Error as exc:
            raise PublishFailed(
                f"not published to PostgreSQL ({str(exc).splitlines()[0]}); it still holds "
                "the previous build. The DuckDB serving file was published."
            ) from exc
    return copied


def _copy_table(source, cursor, schema: str, table: str, comment: str | None, scratch: Path) -> int:
    columns = source.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, table],
    ).fetchall()
    target = f"{ident(schema + STAGING_SUFFIX)}.{ident(table)}"
    cursor.execute(
        f"create table {target} ("
        + ", ".join(f"{ident(c)} {postgres_type(t) or 'text'}" for c, t, _ in columns)
        + ")"
    )
    select = ", ".join(
        ident(c) if postgres_type(t) else f"cast({ident(c)} as varchar) as {ident(c)}"
        for c, t, _ in columns
    )
    csv = scratch / f"{schema}.{table}.csv"
    # DuckDB quotes empty strings, so an unquoted empty field is NULL for PostgreSQL too
    source.execute(
        f"copy (select {select} from {ident(schema)}.{ident(table)}) "
        f"to {sql_str(str(csv))} (format csv, header false)"
    )
    with cursor.copy(f"copy {target} from stdin (format csv)") as copy, csv.open("rb") as rows:
        while chunk := rows.read(1 << 20):
            copy.write(chunk)
    csv.unlink()
    if comment:
        cursor.execute(f"comment on table {target} is {sql_str(comment)}")
    for column, _, text in columns:
        if text:
            cursor.execute(f"comment on column {target}.{ident(column)} is {sql_str(text)}")
    cursor.execute(f"select count(*) from {target}")
    return cursor.fetchone()[0]
