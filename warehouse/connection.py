"""The one way this suite opens the DuckDB warehouse file.

DuckDB shares one database instance per file within a process and refuses a second
connection whose configuration differs ("different configuration than existing
connections"). Great Expectations connects through duckdb-engine, which sets its own
user agent, so every connection here uses exactly that configuration too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_engine
import sqlalchemy

from warehouse.udfs import register_udfs


def _config() -> dict[str, str]:
    return {
        "custom_user_agent": f"duckdb_engine/{duckdb_engine.__version__}"
        f"(sqlalchemy/{sqlalchemy.__version__})"
    }


# What DuckDB may use in each process that opens the warehouse: memory before it spills
# to disk, worker threads, where it spills. Settings of the machine, not of a run (README,
# Configuration); empty means DuckDB's own default (every core, <database>.tmp).
RESOURCE_LIMITS = {
    "memory_limit": ("C360_DUCKDB_MEMORY_LIMIT", "2GB"),
    "threads": ("C360_DUCKDB_THREADS", ""),
    "temp_directory": ("C360_DUCKDB_TEMP_DIRECTORY", ""),
}


def resource_limits() -> dict[str, str]:
    """The DuckDB settings ``RESOURCE_LIMITS`` resolves to in this environment."""
    chosen = {}
    for setting, (variable, default) in RESOURCE_LIMITS.items():
        value = os.environ.get(variable, "").strip() or default
        if value:
            chosen[setting] = value
    return chosen


def apply_resource_limits(con: duckdb.DuckDBPyConnection) -> None:
    """Set the limits on ``con``'s database instance (every connection to the same file
    in this process shares them); dbt applies them through ``warehouse.dbt_plugin``."""
    for setting, value in resource_limits().items():
        literal = str(int(value)) if setting == "threads" else "'" + value.replace("'", "''") + "'"
        con.execute(f"set {setting} = {literal}")


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=_config())
    con.execute("set TimeZone = 'UTC'")
    apply_resource_limits(con)
    register_udfs(con)
    return con


@contextmanager
def connection(path: Path | str, read_only: bool = False):
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def read_if_free(path: Path | str, sql: str) -> list[tuple] | None:
    """The rows of ``sql`` over the DuckDB file at ``path``, or None when it cannot be read
    now (not created yet, or another process is writing it): for sensors and schedules,
    which then leave the question to the run they start."""
    if not Path(path).exists():
        return None
    try:
        with connection(path, read_only=True) as con:
            return con.execute(sql).fetchall()
    except duckdb.Error:
        return None
