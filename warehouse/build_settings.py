"""What a dbt Python model reads about the build it belongs to."""

from __future__ import annotations

from datetime import date

import duckdb


def build_as_of_date(configured: object, session: duckdb.DuckDBPyConnection) -> date:
    """The build's as-of date: the ``as_of_date`` var when dbt was given one (it reaches
    the model through its config: the Spark engine, the tests), else the date the run
    wrote into the warehouse before dbt started (``ops.build_as_of``, see the
    ``as_of_date`` macro). ``session`` is the model's DuckDB connection."""
    if configured:
        return date.fromisoformat(str(configured)[:10])
    row = session.execute("select as_of_date from ops.build_as_of").fetchall()
    if len(row) != 1 or row[0][0] is None:
        raise RuntimeError(
            "No as-of date: run through `c360 run` (or Dagster), or pass "
            "--vars '{as_of_date: YYYY-MM-DD}' to dbt"
        )
    return row[0][0]
