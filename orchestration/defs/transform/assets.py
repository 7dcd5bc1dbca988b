"""dbt models as assets: staging, intermediate and marts, with dbt tests as asset checks."""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.lib.build_state import (
    build_fingerprint,
    code_fingerprint,
    full_refresh_reason,
    incremental_basis,
    record_build_as_of,
    record_dbt_invocation,
    record_full_build,
    unchanged_since_publish,
)
from orchestration.lib.dbt import (
    DBT_RUN_EXECUTABLE,
    C360DbtCliResource,
    dbt_project,
    ensure_manifest,
    invocation_target,
    keep_parsed_project,
    prune_dbt_artifacts,
    translator,
    with_progress_and_row_counts,
)
from orchestration.lib.retry import retry_when_transient
from orchestration.lib.settings import C360Settings, as_of_date_for_run
from quality.runner import prewarm
from warehouse.connection import connection

PUBLISHED_360 = dg.AssetKey(["marts", "dim_customer_360"])


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, c360: C360Settings):
    """``dbt build``: every model is materialised and tested in DAG order.

    Incremental models build on the last build unless this run must start from raw
    (``--full-refresh``, an as-of run, changed code: ``full_refresh_reason``). Skipped,
    with everything downstream (mart gate, publish), when nothing it depends on changed
    since the build the serving database holds: see ``lib/build_state.py``.
    """
    settings = c360.resolve()
    full_build = context.selected_asset_keys == context.assets_def.keys
    code = code_fingerprint()
    # the settings travel as this invocation's --vars (nothing is written to os.environ);
    # the as-of date is read from the warehouse, so the vars, and dbt's parse, stay the same
    # from one day to the next
    dbt_vars = settings.dbt_vars(None)
    basis = incremental_basis(code, dbt_vars)
    with retry_when_transient(context), connection(settings.warehouse) as con:
        as_of = as_of_date_for_run(settings, con)
        fingerprint = build_fingerprint(con, settings.dbt_vars(as_of), code)
        # what the models read as their as-of date (macro as_of_date), not a dbt var
        record_build_as_of(con, as_of)
        reproduced = unchanged_since_publish(con, settings.serving, fingerprint)
        refresh_reason = (
            "full refresh requested"
            if settings.full_refresh
            else full_refresh_reason(con, basis, settings.as_of is not None)
        )
    # a fresh Dagster instance has never seen the marts: build, so they show as materialised
    known = context.instance.get_latest_materialization_event(PUBLISHED_360) is not None
    if reproduced and known and settings.skip_unchanged:
        context.log.info(
            f"Nothing changed since run {reproduced}, which the serving database holds: "
            "dbt, the mart gate and publishing are skipped (run with --rebuild to force)."
        )
        return
    prewarm()  # the mart gate's GX import overlaps with dbt
    context.log.info(f"dbt vars: {dbt_vars}; as-of date {as_of}")
    # dbt's unit tests check the SQL, not the data: they run in the test suite
    # (tests/test_dbt_unit_tests.py), not in every production build (dbt's own advice)
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]
    if refresh_reason:
        context.log.info(f"Incremental models rebuilt from raw: {refresh_reason}.")
        args.append("--full-refresh")
    target = invocation_target(context.run.run_id, dbt_vars)
    invocation = dbt.cli(args, context=context, target_path=target)
    yield from with_progress_and_row_counts(context, invocation.stream(), settings.warehouse)
    keep_parsed_project(target, dbt_vars)
    prune_dbt_artifacts(keep=3)
    with connection(settings.warehouse) as con:
        record_dbt_invocation(
            con, context.run.run_id, basis, settings.as_of is not None, bool(refresh_reason)
        )
        if full_build:
            record_full_build(con, context.run.run_id, fingerprint)


defs = dg.Definitions(
    assets=[dbt_models],
    resources={
        "dbt": C360DbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            dbt_executable=str(DBT_RUN_EXECUTABLE),
        )
    },
)
