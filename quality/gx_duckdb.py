"""A duckdb-engine dialect for Great Expectations.

GX reads metric results after closing its SQLAlchemy connection; duckdb-engine's rollback
on close runs on the same DuckDB connection and wipes the pending result ("list index out
of range"). DuckDB autocommits, so this dialect makes begin/commit/rollback no-ops. It is
registered as ``duckdb+gx`` and otherwise behaves as duckdb-engine.
"""

from __future__ import annotations

from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry

DRIVER = "duckdb.gx"


class NoTransactionDuckDBDialect(DuckDBDialect):
    supports_statement_cache = False

    def do_begin(self, dbapi_connection) -> None:  # noqa: D102
        pass

    def do_commit(self, dbapi_connection) -> None:  # noqa: D102
        pass

    def do_rollback(self, dbapi_connection) -> None:  # noqa: D102
        pass


def register() -> None:
    registry.register(DRIVER, __name__, "NoTransactionDuckDBDialect")


def connection_string(database_path: str) -> str:
    return f"duckdb+gx:///{database_path}"
