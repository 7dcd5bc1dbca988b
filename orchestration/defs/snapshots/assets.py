"""Point-in-time snapshots partitioned by as-of day."""

from datetime import date

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.jobs import DAILY_SNAPSHOT, snapshot_job
from orchestration.lib.settings import C360Settings
from warehouse.connection import connection

DAILY = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=0)

SNAPSHOT_DDL = """
create table if not exists marts.fct_lifecycle_stage_daily (
    snapshot_date date not null,
    lifecycle_stage varchar not null,
    customers bigint not null,
    history_as_of_date date not null
)
"""


def write_stage_counts(con, day: date) -> int:
    """Replace ``day``'s rows: customers per stage whose interval covers the day
    (``valid_from <= day < valid_to``, open intervals running to the as-of date)."""
    (as_of,) = con.execute(
        "select max(as_of_date) from marts.fct_customer_lifecycle_history"
    ).fetchone()
    if as_of is None:
        raise dg.Failure("marts.fct_customer_lifecycle_history is empty: run the build first")
    if day > as_of:
        raise dg.Failure(
            f"{day} is after the warehouse's as-of date {as_of}: nothing is known about it yet"
        )
    con.execute(SNAPSHOT_DDL)
    con.execute("begin transaction")
    try:
        con.execute("delete from marts.fct_lifecycle_stage_daily where snapshot_date = ?", [day])
        con.execute(
            """
            insert into marts.fct_lifecycle_stage_daily
            select cast(? as date), lifecycle_stage, count(*), max(as_of_date)
            from marts.fct_customer_lifecycle_history
            where valid_from <= cast(? as date)
              and (valid_to is null or valid_to > cast(? as date))
            group by lifecycle_stage
            """,
            [day, day, day],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return con.execute(
        "select coalesce(sum(customers), 0) from marts.fct_lifecycle_stage_daily "
        "where snapshot_date = ?",
        [day],
    ).fetchone()[0]


@dg.asset(
    key=DAILY_SNAPSHOT,
    partitions_def=DAILY,
    deps=[dg.AssetKey(["marts", "fct_customer_lifecycle_history"])],
    group_name="snapshots",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def fct_lifecycle_stage_daily(context: dg.AssetExecutionContext, c360: C360Settings):
    """One row per as-of day and lifecycle stage: how many customers were in the stage
    that day, from the lifecycle history. Partitioned by day; a backfill over a range
    builds each day. Published with the marts at the next build."""
    day = date.fromisoformat(context.partition_key)
    with connection(c360.resolve().warehouse) as con:
        customers = write_stage_counts(con, day)
    return dg.MaterializeResult(metadata={"snapshot_date": str(day), "customers": customers})


snapshot_schedule = dg.build_schedule_from_partitioned_job(
    snapshot_job, name=f"{snapshot_job.name}_schedule", hour_of_day=4
)

defs = dg.Definitions(
    assets=[fct_lifecycle_stage_daily], jobs=[snapshot_job], schedules=[snapshot_schedule]
)
