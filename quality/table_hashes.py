"""An order-independent fingerprint of every mart table: how refactors (scripts/mart_hashes.py)
and incremental runs (tests/test_incremental.py) prove they change no figure.

Columns that record the wall clock or a run id differ between any two runs, so they are
left out of the hash.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

WALL_CLOCK_COLUMNS = {
    "logged_at",
    "invocation_id",
    "saved_at",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
    "dbt_scd_id",
    "published_at",
    "run_id",
    "checked_at",
}
# Bookkeeping of incremental models: which build last wrote a row (every column with a
# leading underscore: `_last_load_id`, `_built_as_of`, `_invocation_id`) and what that
# build changed (a customer key's change is relative to the build before the one that
# wrote it).
BOOKKEEPING_PREFIX = "_"
BUILD_COLUMNS = {"previous_customer_key", "key_change"}


def table_hashes(
    warehouse: Path,
    schemas: tuple[str, ...] = ("marts", "snapshots"),
    tables: tuple[str, ...] | None = None,
) -> dict[str, list]:
    """``{"schema.table": [row count, hash]}`` for every table of ``schemas`` (every mart
    and snapshot table by default), or only the named ``tables`` of them."""
    out: dict[str, list] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where list_contains(?, table_schema) and table_type = 'BASE TABLE' order by 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in found:
            if tables is not None and table not in tables:
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in WALL_CLOCK_COLUMNS | BUILD_COLUMNS
                and not c.startswith(BOOKKEEPING_PREFIX)
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            count, digest = con.execute(
                f"select count(*), md5(coalesce(string_agg(h, ',' order by h), '')) from "
                f"(select md5(row({select})::varchar) as h from {schema}.{table})"
            ).fetchone()
            out[f"{schema}.{table}"] = [count, digest]
    return out
