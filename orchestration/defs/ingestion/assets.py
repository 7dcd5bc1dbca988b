"""Raw tables, one asset per ingestion contract: ``raw/<source>__<entity>``."""

import dagster as dg

from ingestion.contracts import load_contracts
from ingestion.loader import load_landing
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.settings import C360Settings
from quality.runner import prewarm
from warehouse.connection import connection

WAREHOUSE_POOL = "duckdb_warehouse"  # one writer at a time on the DuckDB file

CONTRACTS = {c.name: c for c in load_contracts()}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["raw", c.name],
            group_name="ingestion",
            description=f"{c.description}\n\nOne row per landed row that passed its contract "
            f"(ingestion/{c.source}/contracts/{c.entity}.yml); append-only history.",
            kinds={"duckdb"},
            metadata={"primary_key": list(c.primary_key), "cursor": c.cursor or ""},
            skippable=True,
        )
        for c in CONTRACTS.values()
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def raw_tables(context: dg.AssetExecutionContext, c360: C360Settings):
    """Load new landed files into raw; skip files already loaded; quarantine bad rows."""
    selected = [CONTRACTS[key.path[-1]] for key in context.selected_asset_keys]
    settings = c360.resolve()
    with retry_when_transient(context), connection(settings.warehouse) as con:
        report = load_landing(
            con,
            settings.landing,
            context.run.run_id,
            selected,
            settings.event_window,
            # new data will be validated: GX's import overlaps with loading it
            on_new_file=prewarm,
        )
        table_rows = {
            contract.name: con.execute(f"select count(*) from raw.{contract.name}").fetchone()[0]
            for contract in selected
        }
    for rejected in report.rejected:
        context.log.error(rejected.error)
    for contract in selected:
        files = report.for_contract(contract.name)
        yield dg.MaterializeResult(
            asset_key=["raw", contract.name],
            metadata={
                # the table's rows and what this run added (raw is append-only history,
                # but for the rows a file's new version replaces: ingest.replaced_rows)
                "dagster/row_count": table_rows[contract.name],
                "rows_added": sum(f.rows_loaded for f in files),
                "files_loaded": sum(f.status == "loaded" for f in files),
                "files_skipped": sum(f.status == "skipped" for f in files),
                "files_rejected": sum(f.status == "rejected" for f in files),
                "rows_landed": sum(f.rows_landed for f in files),
                "rows_loaded": sum(f.rows_loaded for f in files),
                "rows_quarantined": sum(f.rows_quarantined for f in files),
                "rows_corrected": sum(f.rows_corrected for f in files),
                "rows_replaced": sum(f.rows_replaced for f in files),
                "rejections": "\n".join(f.error for f in files if f.error) or "none",
                "schema_drift": ", ".join(sorted({c for f in files for c in f.schema_drift}))
                or "none",
            },
        )


defs = dg.Definitions(assets=[raw_tables])
