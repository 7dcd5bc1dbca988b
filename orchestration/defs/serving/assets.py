"""Publish: a consistent, read-only copy of the marts for BI (write-audit-publish)."""

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.settings import C360Settings
from orchestration.serving import publish_serving_database
from quality.runner import blocking_failures
from quality.suites import mart_suites

PUBLISHED_MARTS = sorted({s.table for s in mart_suites()})


@dg.asset(
    key=["serving", "warehouse"],
    group_name="serving",
    deps=[dg.AssetKey(["marts", t]) for t in PUBLISHED_MARTS],
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def serving_warehouse(context: dg.AssetExecutionContext, c360: C360Settings):
    """The serving database BI tools read: every ``marts`` table copied from the working
    file only after this run's error-severity quality checks passed, then swapped in
    atomically. A failed run leaves the previous serving file untouched."""
    failures = blocking_failures(c360.warehouse, context.run.run_id)
    if failures:
        raise dg.Failure(
            description="Not published: error-severity quality checks failed in this run",
            metadata={"failures": "\n".join(str(f) for f in failures)},
        )
    published = publish_serving_database(
        c360.warehouse, c360.serving, context.run.run_id, c360.as_of_date
    )
    return dg.MaterializeResult(metadata={"path": str(c360.serving), **published})


defs = dg.Definitions(assets=[serving_warehouse])
