"""The jobs, named for what they do.

- ``c360_build_job``: the daily run. Ingest what landed, gate raw, build and test dbt
  (skipped when nothing changed), gate the marts, publish.
- ``lifecycle_snapshot_job``: one as-of day of ``marts.fct_lifecycle_stage_daily`` per
  partition; a backfill over a date range builds each day's snapshot.
"""

import dagster as dg

BUILD_JOB = "c360_build_job"
SNAPSHOT_JOB = "lifecycle_snapshot_job"
DAILY_SNAPSHOT = dg.AssetKey(["marts", "fct_lifecycle_stage_daily"])

build_job = dg.define_asset_job(
    name=BUILD_JOB,
    # the partitioned daily snapshot has its own job: a job runs one partitioning
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Ingest landed files, build and test the dbt models, validate with GX, publish.",
    executor_def=dg.in_process_executor,
)

snapshot_job = dg.define_asset_job(
    name=SNAPSHOT_JOB,
    selection=dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Lifecycle stage counts as of each partition day (backfill a date range).",
    executor_def=dg.in_process_executor,
)
