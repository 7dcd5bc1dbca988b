"""dbt models as assets: staging, intermediate and marts, with dbt tests as asset checks."""

import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.dbt import dbt_project, ensure_manifest, translator
from orchestration.lib.settings import C360Settings


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Settings):
    """``dbt build``: every model is materialised and tested in DAG order."""
    os.environ.update(c360.dbt_env())
    yield from dbt.cli(["build"], context=context).stream()


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
