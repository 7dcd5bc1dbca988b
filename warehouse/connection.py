"""The one way this suite opens the DuckDB warehouse file.

DuckDB shares one database instance per file within a process and refuses a second
connection whose configuration differs ("different configuration than existing
connections"). Great Expectations connects through duckdb-engine, which sets its own
user agent, so every connection here uses exactly that configuration too.
"""

from __future__ import annotations

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


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=_config())
    con.execute("set TimeZone = 'UTC'")
    register_udfs(con)
    return con


@contextmanager
def connection(path: Path | str, read_only: bool = False):
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
