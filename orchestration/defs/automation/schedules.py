"""The daily build. Its cron and timezone are part of the schedule's definition, so they
are read when the code location loads (the one setting that is): C360_SCHEDULE_CRON
(default 03:00 every day) and C360_SCHEDULE_TIMEZONE (default UTC)."""

import os

import dagster as dg

from orchestration.jobs import BUILD_JOB

c360_build_job_schedule = dg.ScheduleDefinition(
    name=f"{BUILD_JOB}_schedule",
    job_name=BUILD_JOB,
    cron_schedule=os.environ.get("C360_SCHEDULE_CRON", "0 3 * * *"),
    execution_timezone=os.environ.get("C360_SCHEDULE_TIMEZONE", "UTC"),
    description="Daily: ingest what landed, build, check, publish (skips dbt when nothing "
    "changed).",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

defs = dg.Definitions(schedules=[c360_build_job_schedule])
