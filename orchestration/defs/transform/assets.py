"""dbt models as assets: staging, intermediate and marts, with dbt tests as asset checks."""

import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ingestion.warehouse import connection
from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.build_state import (
    build_fingerprint,
    record_full_build,
    unchanged_since_publish,
)
from orchestration.lib.dbt import dbt_project, ensure_manifest, translator
from orchestration.lib.settings import C360Settings


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Settings):
    """``dbt build``: every model is materialised and tested in DAG order.

    Skipped, with everything downstream (mart gate, publish), when nothing it depends on
    changed since the build the serving database holds: see ``lib/build_state.py``.
    """
    os.environ.update(c360.dbt_env())
    full_build = context.selected_asset_keys == context.assets_def.keys
    with connection(c360.warehouse) as con:
        fingerprint = build_fingerprint(con, c360.dbt_env())
        reproduced = unchanged_since_publish(con, c360.serving, fingerprint)
    if reproduced and c360.skip_unchanged:
        context.log.info(
            f"Nothing changed since run {reproduced}, which the serving database holds: "
            "dbt, the mart gate and publishing are skipped (run with --rebuild to force)."
        )
        return
    yield from dbt.cli(["build"], context=context).stream()
    if full_build:
        with connection(c360.warehouse) as con:
            record_full_build(con, context.run.run_id, fingerprint)


defs = dg.Definitions(
    assets=[dbt_models],
    resources={
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            # The dbt next to this interpreter: works without an activated virtualenv.
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        )
    },
)
