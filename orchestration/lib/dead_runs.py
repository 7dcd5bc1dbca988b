"""Runs whose process died: found and closed before a CLI run starts.

A run killed outright (SIGKILL, out of memory, power loss) never records its end: Dagster
keeps it STARTED and keeps the concurrency-pool slot its step held, and with the
``duckdb_warehouse`` pool's limit of 1 every later run would wait for that slot forever.
Each CLI run is therefore tagged with the host, process id and process start time that
run it; before the next run starts, a tagged run still STARTED whose process is gone (or
whose pid now belongs to another process) is marked failed and its slots are freed.
Runs launched from the UI are covered by the daemon's run monitoring instead
(``run_monitoring`` in dagster.yaml).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

HOST_TAG = "c360/host"
PID_TAG = "c360/pid"
PROCESS_START_TAG = "c360/process_start"


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    or None when there is no such process. Tells a pid reused by another process apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def run_tags() -> dict[str, str]:
    """Tags naming the process that executes the run (this one)."""
    pid = os.getpid()
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(pid),
        PROCESS_START_TAG: _process_start(pid) or "",
    }


def _is_dead(run: dg.DagsterRun) -> bool:
    tags = run.tags
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG, "").isdigit():
        return False  # not ours, or on another machine: cannot be judged from here
    return _process_start(int(tags[PID_TAG])) != tags.get(PROCESS_START_TAG)


def close_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark every run whose process died as failed and free its pool slots; their ids."""
    closed = []
    unfinished = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    for run in instance.get_runs(filters=unfinished):
        if not _is_dead(run):
            continue
        instance.report_run_failed(
            run,
            f"The process running it (pid {run.tags[PID_TAG]}) died without ending the run; "
            "marked failed by the next run.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        closed.append(run.run_id)
    return closed
