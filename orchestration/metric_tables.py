"""The ``metrics`` schema: every dbt saved query (``dbt_project/models/semantic/``) run
after the build as ``metrics.<name>``, documented for the serving copy.

The SQL comes from MetricFlow (``orchestration/metrics_layer.py``) and depends on the
definitions only, so it is compiled once per change of the semantic manifest and kept
beside it (``metrics_sql.json``); a build then runs it without importing MetricFlow
(a second and more per process, on every run of the suite's and the scheduler's).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb

from ingestion.sql import ident, sql_str
from orchestration.lib.semantic_manifest import (
    METRICS_SCHEMA,
    SEMANTIC_MANIFEST,
    column_descriptions,
    load_semantic_manifest,
    saved_queries,
)


def compiled_saved_queries(manifest_path: Path = SEMANTIC_MANIFEST) -> dict[str, str]:
    """Each saved query's SQL, from the cache when it was compiled from this manifest."""
    digest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    cache = manifest_path.with_name("metrics_sql.json")
    try:
        cached = json.loads(cache.read_text())
        if cached["digest"] == digest:
            return cached["sql"]
    except (OSError, ValueError, KeyError):
        pass
    from orchestration.metrics_layer import compile_saved_queries  # MetricFlow: slow import

    compiled = compile_saved_queries(manifest_path)
    # written whole and renamed: a parallel run reads the old file or the new one
    partial = cache.with_name(f"{cache.name}.{os.getpid()}")
    partial.write_text(json.dumps({"digest": digest, "sql": compiled}))
    os.replace(partial, cache)
    return compiled


def build_metric_tables(
    con: duckdb.DuckDBPyConnection, manifest_path: Path = SEMANTIC_MANIFEST
) -> dict[str, int]:
    """Every saved query written as ``metrics.<name>``: the table with the saved query's
    description, each metric column with the metric's, each dimension with the
    dimension's. Returns the rows per table."""
    compiled = compiled_saved_queries(manifest_path)
    manifest = load_semantic_manifest(manifest_path)
    descriptions = column_descriptions(manifest)
    con.execute(f"create schema if not exists {METRICS_SCHEMA}")
    rows = {}
    for saved in saved_queries(manifest):
        name = saved["name"]
        table = f"{METRICS_SCHEMA}.{ident(name)}"
        con.execute(f"create or replace table {table} as {compiled[name]}")
        con.execute(f"comment on table {table} is {sql_str(saved['description'])}")
        columns = con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [METRICS_SCHEMA, name],
        ).fetchall()
        for (column,) in columns:
            # a column without a description is a definition to fix, not a gap to publish
            text = descriptions[column]
            con.execute(f"comment on column {table}.{ident(column)} is {sql_str(text)}")
        rows[name] = con.execute(f"select count(*) from {table}").fetchone()[0]
    return rows
