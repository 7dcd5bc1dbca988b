"""The landing sensor (new files start a build) and the run-failure alert."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.jobs import BUILD_JOB
from orchestration.lib.landing_watch import WatchState, decide, landed_files, not_loaded_yet
from orchestration.lib.run_logging import root_message
from orchestration.lib.settings import RunSettings, resolve_settings
from warehouse.connection import connection


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
        decision.new_files, settings.landing, loaded_checksums(settings.warehouse)
    )
    if not new_files:
        waiting = f"; {len(decision.waiting)} still being written" if decision.waiting else ""
        loaded = len(decision.new_files)
        already = f"; {loaded} settled file(s) already loaded (same content)" if loaded else ""
        return dg.SkipReason(f"no new settled files in {settings.landing}{waiting}{already}")
    return dg.RunRequest(run_key=decision.run_key, tags={"c360/new_files": str(len(new_files))})


def loaded_checksums(warehouse: Path) -> set[str] | None:
    """Every file content the loader has recorded, or None when the manifest cannot be
    read now (no warehouse yet, or a run holds the file)."""
    if not warehouse.exists():
        return None
    try:
        with connection(warehouse, read_only=True) as con:
            rows = con.execute("select file_checksum from ingest.load_manifest").fetchall()
            return {checksum for (checksum,) in rows}
    except duckdb.Error:
        return None


def write_alert(settings: RunSettings, alert: dict) -> None:
    """Append the alert to ``<reports>/alerts.jsonl`` and POST it to the webhook if set;
    a run already alerted (by the CLI that ran it, or the sensor) is not alerted again."""
    settings.alerts_file.parent.mkdir(parents=True, exist_ok=True)
    if _alerted(settings.alerts_file, alert["run_id"]):
        return
    with settings.alerts_file.open("a") as handle:
        handle.write(json.dumps(alert) + "\n")
    if settings.alert_webhook_url:
        request = urllib.request.Request(
            settings.alert_webhook_url,
            data=json.dumps(alert).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


def _alerted(alerts_file: Path, run_id: str) -> bool:
    if not alerts_file.exists():
        return False
    with alerts_file.open() as handle:
        return any(json.loads(line).get("run_id") == run_id for line in handle if line.strip())


def failure_alert(run: dg.DagsterRun, instance: dg.DagsterInstance) -> dict:
    """The failed steps of a run, each with its error's first line."""
    steps = []
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.get_dagster_event()
        error = event.step_failure_data.error
        steps.append({"step": event.step_key, "error": root_message(error) if error else "failed"})
    if not steps:  # it failed before or between steps (a resource, the writer lock)
        for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
            event = record.get_dagster_event()
            error = getattr(event.event_specific_data, "error", None)
            steps.append({"step": "run", "error": root_message(error) if error else event.message})
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "failed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "failed_steps": steps,
    }


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
