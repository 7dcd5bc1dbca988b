"""Run-failure alerts: one JSON line per failed run in ``<reports>/alerts.jsonl`` and a
POST to ``C360_ALERT_WEBHOOK_URL`` when set. Written by the run-failure sensor (where the
daemon runs) and by ``execute_job`` for runs started from the CLI or cron, once per run
whoever is first: the check and the append hold a lock on the file."""

from __future__ import annotations

import fcntl
import json
import urllib.request
from datetime import UTC, datetime

import dagster as dg

from orchestration.lib.run_logging import root_message
from orchestration.lib.settings import RunSettings


def write_alert(settings: RunSettings, alert: dict) -> None:
    """Append the alert to ``<reports>/alerts.jsonl`` and POST it to the webhook if set;
    a run already alerted (by the CLI that ran it, or the sensor) is not alerted again."""
    settings.alerts_file.parent.mkdir(parents=True, exist_ok=True)
    with settings.alerts_file.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if _alerted(handle, alert["run_id"]):
            return
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


def _alerted(lines, run_id: str) -> bool:
    for line in lines:
        try:
            if json.loads(line).get("run_id") == run_id:
                return True
        except ValueError:  # a line torn by a crash: not this run's alert
            continue
    return False


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
