"""The landing sensor (new files start a build) and the run-failure alert."""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg

from orchestration.jobs import BUILD_JOB
from orchestration.lib.alerts import failure_alert, write_alert
from orchestration.lib.landing_watch import (
    LoadedFiles,
    WatchState,
    decide,
    landed_files,
    not_loaded_yet,
)
from orchestration.lib.settings import resolve_settings
from warehouse.connection import read_if_free


@dg.sensor(
    job_name=BUILD_JOB,
    minimum_interval_seconds=30,
    description="Starts one build when settled new files are in the landing folder "
    "(C360_LANDING_DIR); a file still being written waits (C360_SENSOR_SETTLE_SECONDS).",
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_sensor(context: dg.SensorEvaluationContext):
    settings = resolve_settings()
    decision = decide(
        landed_files(settings.landing),
        WatchState.loads(context.cursor),
        time.time_ns(),
        settings.sensor_settle_seconds,
    )
    context.update_cursor(decision.state.dumps())
    new_files = not_loaded_yet(
        decision.new_files, settings.landing, loaded_files(settings.warehouse)
    )
    if not new_files:
        waiting = f"; {len(decision.waiting)} still being written" if decision.waiting else ""
        loaded = len(decision.new_files)
        already = f"; {loaded} settled file(s) already loaded (same content)" if loaded else ""
        return dg.SkipReason(f"no new settled files in {settings.landing}{waiting}{already}")
    return dg.RunRequest(run_key=decision.run_key, tags={"c360/new_files": str(len(new_files))})


def loaded_files(warehouse: Path) -> LoadedFiles | None:
    """What the loader has recorded, or None when the manifest cannot be read now (no
    warehouse yet, or a run holds the file)."""
    rows = read_if_free(
        warehouse, "select file_path, file_checksum from ingest.load_manifest order by load_id"
    )
    if rows is None:
        return None
    return LoadedFiles(dict(rows), frozenset(checksum for _, checksum in rows))


@dg.run_failure_sensor(
    description="Writes an alert naming the failed step and its error to "
    "<reports>/alerts.jsonl (and C360_ALERT_WEBHOOK_URL when set).",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    alert = failure_alert(context.dagster_run, context.instance)
    context.log.error(
        f"Run {alert['run_id']} failed: "
        + "; ".join(f"{s['step']}: {s['error']}" for s in alert["failed_steps"])
    )
    write_alert(resolve_settings(), alert)


defs = dg.Definitions(sensors=[landing_sensor, run_failure_alert])
