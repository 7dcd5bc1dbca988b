"""The metrics layer's tables: each dbt saved query run through MetricFlow after the build,
written to the warehouse's ``metrics`` schema and published with the marts."""

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.dbt import ensure_manifest
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.semantic_manifest import (
    METRICS_SCHEMA,
    load_semantic_manifest,
    metric_inputs,
    saved_queries,
)
from orchestration.lib.settings import C360Settings
from orchestration.metric_tables import build_metric_tables
from warehouse.connection import connection

ensure_manifest()  # dbt parse writes the semantic manifest beside the manifest
_manifest = load_semantic_manifest()
METRIC_TABLES = [
    dg.AssetSpec(
        key=[METRICS_SCHEMA, saved["name"]],
        description=saved["description"],
        group_name="serving",
        kinds={"duckdb"},
        deps=[dg.AssetKey(list(relation)) for relation in metric_inputs(_manifest)],
    )
    for saved in saved_queries(_manifest)
]


@dg.multi_asset(specs=METRIC_TABLES, pool=WAREHOUSE_POOL)
def metric_tables(context: dg.AssetExecutionContext, c360: C360Settings):
    """Every saved query of ``dbt_project/models/semantic`` as ``metrics.<name>``."""
    settings = c360.resolve()
    with retry_when_transient(context), connection(settings.warehouse) as con:
        rows = build_metric_tables(con)
    for name, count in rows.items():
        yield dg.MaterializeResult(
            asset_key=[METRICS_SCHEMA, name], metadata={"dagster/row_count": count}
        )


defs = dg.Definitions(assets=[metric_tables])
