"""The metrics layer: dbt's semantic models and metrics, compiled to SQL by MetricFlow.

Every metric has one definition, in ``dbt_project/models/semantic/``. MetricFlow (the
engine behind dbt's semantic layer) turns a request (metrics, group-bys, filters) into
SQL, which runs here on a plain DuckDB connection: the working warehouse after a build,
to write the ``metrics`` schema that is published with the marts, or the read-only
serving database for ``c360 metrics query``. Importing MetricFlow takes seconds, so the
build's metrics step (``orchestration/metric_tables.py``) runs SQL compiled here once per
change of the definitions and kept beside the semantic manifest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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

from orchestration.lib.semantic_manifest import (
    SEMANTIC_MANIFEST,
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


def compile_saved_queries(manifest_path: Path = SEMANTIC_MANIFEST) -> dict[str, str]:
    """Each saved query's SQL, as MetricFlow renders it for DuckDB (no data needed)."""
    with duckdb.connect() as con:
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
