"""The jobs, named for what they do.

- ``c360_build_job``: the daily run. Ingest what landed, gate raw, build and test dbt
  (skipped when nothing changed), gate the marts, publish.
- ``c360_rebuild_job``: the same run with every dbt model rebuilt even when nothing
  changed since the published build (after a fix outside the fingerprint, say).
- ``lifecycle_snapshot_job``: one as-of day of ``marts.fct_lifecycle_stage_daily`` per
  partition; a backfill over a date range builds each day's snapshot.
"""

import dagster as dg

BUILD_JOB = "c360_build_job"
REBUILD_JOB = "c360_rebuild_job"
SNAPSHOT_JOB = "lifecycle_snapshot_job"
DAILY_SNAPSHOT = dg.AssetKey(["marts", "fct_lifecycle_stage_daily"])

build_job = dg.define_asset_job(
    name=BUILD_JOB,
    # the partitioned daily snapshot has its own job: a job runs one partitioning
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Ingest landed files, build and test the dbt models, validate with GX, publish.",
    executor_def=dg.in_process_executor,
)

rebuild_job = dg.define_asset_job(
    name=REBUILD_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="The build job with skip_unchanged off: every model is rebuilt and published.",
    executor_def=dg.in_process_executor,
    config={"resources": {"c360": {"config": {"skip_unchanged": False}}}},
)

snapshot_job = dg.define_asset_job(
    name=SNAPSHOT_JOB,
    selection=dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Lifecycle stage counts as of each partition day (backfill a date range).",
    executor_def=dg.in_process_executor,
)
