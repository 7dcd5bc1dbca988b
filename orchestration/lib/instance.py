"""The Dagster instance the CLI and the UI share: runs, their logs, materialisations and
schedule/sensor state persist under one folder (``DAGSTER_HOME``, default
``<C360_DATA_DIR>/dagster``), so a run started from ``c360 run`` shows in ``make dagster``.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

import dagster as dg

# Written once when the folder is new; edit it freely afterwards (it is not overwritten).
DAGSTER_YAML = """\
# The c360 Dagster instance (written by c360 when this folder was new).
telemetry:
  enabled: false
concurrency:
  # one writer per DuckDB file: every asset that writes the warehouse is in the
  # duckdb_warehouse pool, and runs queue rather than compete for the file
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1
# with the daemon (make dagster): a run whose worker died is marked failed and the pool
# slot it held is freed, so it cannot hold up every later run (CLI runs: dead_runs.py)
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 30
"""


def ensure_instance_dir(home: Path) -> Path:
    """Create the instance folder and its dagster.yaml when missing; return the folder."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    """The instance, its storage created by one process at a time: two runs started
    together on a new folder would otherwise both create the SQLite tables, and one fails."""
    folder = ensure_instance_dir(home)
    with (folder / ".open.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.from_config(str(folder))
