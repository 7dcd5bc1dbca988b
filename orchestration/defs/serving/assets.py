"""Publish: a consistent, read-only copy of the marts for BI (write-audit-publish)."""

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.defs.serving.metrics import METRIC_TABLES
from orchestration.defs.transform.assets import dbt_models
from orchestration.lib.dbt import dbt_project
from orchestration.lib.personal_data import personal_columns, salt
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.settings import C360Settings, as_of_date_for_run
from orchestration.report import build_report
from orchestration.serving import export_parquet, publish_serving_database
from orchestration.serving_postgres import publish_to_postgres
from quality.runner import blocking_failures
from warehouse.connection import connection

# every mart dbt builds: publish waits for all of them and copies all of them
PUBLISHED_MARTS = sorted(key for key in dbt_models.keys if key.path[0] == "marts")


@dg.asset(
    key=["serving", "warehouse"],
    group_name="serving",
    deps=[*PUBLISHED_MARTS, *(spec.key for spec in METRIC_TABLES)],
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def serving_warehouse(context: dg.AssetExecutionContext, c360: C360Settings):
    """The serving database BI tools read: every ``marts`` and ``metrics`` table copied from the working
    file only after this run's error-severity quality checks passed, emails and phones as
    salted hashes unless clear values are opted in, then swapped in atomically, and the
    analytical report drawn from it; with ``C360_POSTGRES_DSN`` the same tables are
    published to PostgreSQL too. A failed run leaves the previous serving file and report
    untouched."""
    settings = c360.resolve()
    with retry_when_transient(context):
        failures = blocking_failures(settings.warehouse, context.run.run_id)
    if failures:
        raise dg.Failure(
            description="Not published: error-severity quality checks failed in this run",
            metadata={"failures": "\n".join(str(f) for f in failures)},
        )
    with retry_when_transient(context):
        with connection(settings.warehouse) as con:
            as_of = as_of_date_for_run(settings, con)
        published = publish_serving_database(
            settings.warehouse,
            settings.serving,
            context.run.run_id,
            as_of,
            personal_columns(dbt_project.manifest_path),
            None if settings.serving_personal_data == "clear" else salt(settings.warehouse),
        )
    exported = export_parquet(
        settings.serving, settings.exports, context.run.run_id, keep=settings.exports_keep
    )
    on_postgres = {}
    if settings.postgres_dsn:  # a second target, for BI tools without a DuckDB driver
        with retry_when_transient(context):
            on_postgres = publish_to_postgres(settings.serving, settings.postgres_dsn)
    report = build_report(settings.serving, settings.reports / "report.html")
    return dg.MaterializeResult(
        metadata={
            "path": str(settings.serving),
            "report": dg.MetadataValue.path(str(report)),
            "parquet": dg.MetadataValue.path(str(exported)),
            "personal_data": settings.serving_personal_data,
            "postgres_tables": len(on_postgres),
            **published,
        }
    )


defs = dg.Definitions(assets=[serving_warehouse])
