"""Point-in-time snapshots partitioned by as-of day."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.defs.ingestion.assets import WAREHOUSE_POOL
from orchestration.jobs import DAILY_SNAPSHOT, snapshot_job
from orchestration.lib.settings import C360Settings, resolve_settings
from warehouse.connection import connection, read_if_free

DAILY = dg.DailyPartitionsDefinition(start_date="2020-01-01", end_offset=0)

SNAPSHOT_DDL = """
create table if not exists marts.fct_lifecycle_stage_daily (
    snapshot_date date not null,
    lifecycle_stage varchar not null,
    customers bigint not null,
    history_as_of_date date not null
)
"""


# The as-of date of the marts the warehouse holds. The lifecycle history is kept from run
# to run and carries no as-of date; the 360, rebuilt with it in every build, does.
MARTS_AS_OF = "select max(as_of_date) from marts.dim_customer_360"


def history_as_of(con) -> date | None:
    """The as-of date of the lifecycle history the warehouse holds (None before a build)."""
    built = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'marts' "
        "and table_name in ('fct_customer_lifecycle_history', 'dim_customer_360')"
    ).fetchone()[0]
    if built < 2:
        return None
    return con.execute(MARTS_AS_OF).fetchone()[0]


def after_as_of(day: date, as_of: date) -> str:
    return f"{day} is after the warehouse's as-of date {as_of}: nothing is known about it yet"


def write_stage_counts(con, day: date) -> int:
    """Replace ``day``'s rows: customers per stage whose interval covers the day
    (``valid_from <= day < valid_to``, open intervals running to the as-of date)."""
    as_of = history_as_of(con)
    if as_of is None:
        raise dg.Failure("marts.fct_customer_lifecycle_history is empty: run the build first")
    if day > as_of:
        raise dg.Failure(after_as_of(day, as_of))
    con.execute(SNAPSHOT_DDL)
    con.execute("begin transaction")
    try:
        con.execute("delete from marts.fct_lifecycle_stage_daily where snapshot_date = ?", [day])
        con.execute(
            """
            insert into marts.fct_lifecycle_stage_daily
            select cast(? as date), lifecycle_stage, count(*), cast(? as date)
            from marts.fct_customer_lifecycle_history
            where valid_from <= cast(? as date)
              and (valid_to is null or valid_to > cast(? as date))
            group by lifecycle_stage
            """,
            [day, as_of, day, day],
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
    output_required=False,
)
def fct_lifecycle_stage_daily(context: dg.AssetExecutionContext, c360: C360Settings):
    """One row per as-of day and lifecycle stage: how many customers were in the stage
    that day, from the lifecycle history. Partitioned by day; a backfill over a range
    builds each day, and skips (materialises nothing, fails nothing) a day after the
    warehouse's as-of date. Published with the marts at the next build."""
    day = date.fromisoformat(context.partition_key)
    with connection(c360.resolve().warehouse) as con:
        as_of = history_as_of(con)
        if as_of is not None and day > as_of:
            context.log.info(f"Skipped: {after_as_of(day, as_of)}.")
            return
        customers = write_stage_counts(con, day)
    yield dg.MaterializeResult(metadata={"snapshot_date": str(day), "customers": customers})


@dg.schedule(
    job=snapshot_job,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    name=f"{snapshot_job.name}_schedule",
    description="Daily at 04:00 UTC: yesterday's snapshot, skipped with the reason while "
    "yesterday is after the warehouse's as-of date.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def snapshot_schedule(context: dg.ScheduleEvaluationContext):
    fired = context.scheduled_execution_time or datetime.now(UTC)  # None when run by hand
    day = (fired - timedelta(days=1)).date()
    as_of = warehouse_as_of(resolve_settings().warehouse)
    if as_of is not None and day > as_of:
        return dg.SkipReason(after_as_of(day, as_of))
    return dg.RunRequest(partition_key=day.isoformat(), run_key=day.isoformat())


def warehouse_as_of(warehouse: Path) -> date | None:
    """The history's as-of date, or None when the warehouse cannot be read now (not
    built yet, or a run writing it): the run then finds out itself."""
    rows = read_if_free(warehouse, MARTS_AS_OF)
    return rows[0][0] if rows else None


defs = dg.Definitions(
    assets=[fct_lifecycle_stage_daily], jobs=[snapshot_job], schedules=[snapshot_schedule]
)
