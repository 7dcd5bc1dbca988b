"""The jobs, named for what they do.

- ``c360_build_job``: the daily incremental run. Ingest what landed, gate raw, build and
  test dbt (incremental models build on the last build; everything skipped when nothing
  changed), gate the marts, publish.
- ``c360_full_refresh_job``: the same run with every dbt model rebuilt from raw, the
  incremental ones included (after a fix outside the fingerprint, or to prove the
  incremental state: it gives the same marts).
- ``lifecycle_snapshot_job``: one as-of day of ``marts.fct_lifecycle_stage_daily`` per
  partition; a backfill over a date range builds each day's snapshot.
"""

import dagster as dg

BUILD_JOB = "c360_build_job"
FULL_REFRESH_JOB = "c360_full_refresh_job"
SNAPSHOT_JOB = "lifecycle_snapshot_job"
DAILY_SNAPSHOT = dg.AssetKey(["marts", "fct_lifecycle_stage_daily"])

build_job = dg.define_asset_job(
    name=BUILD_JOB,
    # the partitioned daily snapshot has its own job: a job runs one partitioning
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Ingest landed files, build and test the dbt models (incrementally), validate "
    "with GX, publish.",
    executor_def=dg.in_process_executor,
)

full_refresh_job = dg.define_asset_job(
    name=FULL_REFRESH_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="The build job with every dbt model rebuilt from raw (dbt --full-refresh) "
    "and published.",
    executor_def=dg.in_process_executor,
    config={"resources": {"c360": {"config": {"full_refresh": True}}}},
)

snapshot_job = dg.define_asset_job(
    name=SNAPSHOT_JOB,
    selection=dg.AssetSelection.assets(DAILY_SNAPSHOT),
    description="Lifecycle stage counts as of each partition day (backfill a date range).",
    executor_def=dg.in_process_executor,
)
