"""The metrics layer: dbt's semantic models and metrics, compiled to SQL by MetricFlow.

Every metric has one definition, in ``dbt_project/models/semantic/``. MetricFlow (the
engine behind dbt's semantic layer) turns a request (metrics, group-bys, filters) into
SQL, which runs here on a plain DuckDB connection: the working warehouse after a build,
to write the ``metrics`` schema that is published with the marts, or the read-only
serving database for ``c360 metrics query``. Importing MetricFlow takes seconds, so the
Dagster definitions import this module only inside the step that needs it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantic_interfaces.type_enums.dimension_type import DimensionType
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from ingestion.sql import ident, sql_str
from orchestration.lib.semantic_manifest import (
    METRICS_SCHEMA,
    SEMANTIC_MANIFEST,
    column_descriptions,
    load_semantic_manifest,
    saved_queries,
)


class DuckDbSqlClient:
    """MetricFlow's ``SqlClient`` protocol over a DuckDB connection (renders DuckDB SQL)."""

    sql_engine_type = SqlEngine.DUCKDB
    sql_plan_renderer = DuckDbSqlPlanRenderer()

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> MetricFlowDataTable:
        relation = self._con.sql(stmt, params=_bind(sql_bind_parameter_set))
        return MetricFlowDataTable.create_from_rows(relation.columns, relation.fetchall())

    def execute(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> None:
        self._con.execute(stmt, _bind(sql_bind_parameter_set))

    def dry_run(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = SqlBindParameterSet()
    ) -> None:
        self._con.execute(f"explain {stmt}", _bind(sql_bind_parameter_set))

    def close(self) -> None:  # the caller owns the connection
        pass

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _bind(parameters: SqlBindParameterSet) -> dict[str, object] | None:
    values = {p.key: p.value.value for p in parameters.param_items}
    return values or None


def metricflow_engine(
    con: duckdb.DuckDBPyConnection, manifest_path: Path = SEMANTIC_MANIFEST
) -> MetricFlowEngine:
    manifest = parse_manifest_from_dbt_generated_manifest(
        json.dumps(load_semantic_manifest(manifest_path))
    )
    return MetricFlowEngine(SemanticManifestLookup(manifest), DuckDbSqlClient(con))


def metric_sql(
    engine: MetricFlowEngine,
    metrics: Sequence[str] = (),
    group_by: Sequence[str] = (),
    where: Sequence[str] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
    saved_query: str | None = None,
) -> str:
    """The SQL MetricFlow generates for a request (a saved query, or metrics by group-bys)."""
    request = MetricFlowQueryRequest.create(
        saved_query_name=saved_query,
        metric_names=list(metrics) or None,
        group_by_names=list(group_by) or None,
        where_constraints=list(where) or None,
        order_by_names=list(order_by) or None,
        limit=limit,
    )
    return engine.explain(request).sql_statement.sql


@lru_cache(maxsize=4)
def _saved_query_sql(manifest_digest: str, manifest_path: Path) -> dict[str, str]:
    """Each saved query's SQL: it depends on the definitions only, so it is compiled once
    per process and manifest (about a second), not on every run."""
    with duckdb.connect() as con:  # rendering needs no data
        engine = metricflow_engine(con, manifest_path)
        manifest = load_semantic_manifest(manifest_path)
        return {
            q["name"]: metric_sql(engine, saved_query=q["name"]) for q in saved_queries(manifest)
        }


@dataclass(frozen=True)
class MetricInfo:
    name: str
    type: str
    label: str
    description: str
    dimensions: tuple[str, ...]


def list_metrics(engine: MetricFlowEngine) -> list[MetricInfo]:
    return [
        MetricInfo(
            name=m.name,
            type=m.type.value,
            label=m.label or m.name,
            description=m.description or "",
            dimensions=tuple(
                sorted(d.dunder_name for d in m.dimensions if d.type is DimensionType.CATEGORICAL)
            ),
        )
        for m in sorted(engine.list_metrics(), key=lambda m: m.name)
    ]


def build_metric_tables(
    con: duckdb.DuckDBPyConnection, manifest_path: Path = SEMANTIC_MANIFEST
) -> dict[str, int]:
    """Every saved query written as ``metrics.<name>``, documented for the serving copy:
    the table with the saved query's description, each metric column with the metric's,
    each dimension with the dimension's. Returns the rows per table."""
    digest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    compiled = _saved_query_sql(digest, manifest_path)
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
