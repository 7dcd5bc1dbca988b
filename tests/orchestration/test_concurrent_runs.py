"""Two runs started together on one warehouse both end cleanly: the second waits for the
first (bounded), a run that may not wait is refused with who is writing, and the
warehouse is whole afterwards."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from tests.test_small_data import _write_ten_orders
from warehouse.connection import connection

C360 = str(Path(sys.executable).with_name("c360"))


def _start(landing: Path, warehouse: Path, wait_seconds: int) -> subprocess.Popen:
    return subprocess.Popen(
        [C360, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
        env={**os.environ, "C360_LOCK_WAIT_SECONDS": str(wait_seconds), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_concurrent_runs_wait_or_are_refused_and_leave_a_whole_warehouse(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    _write_ten_orders(landing)
    first, second = _start(landing, warehouse, 600), _start(landing, warehouse, 600)
    lock = tmp_path / "warehouse.duckdb.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    holder = json.loads(lock.read_text())
    impatient = _start(landing, warehouse, 0)
    refused_output, _ = impatient.communicate(timeout=300)
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]

    assert impatient.returncode == 3, refused_output
    refusal = " ".join(refused_output.split())
    assert f"another run (run id {holder['run_id']}, pid {holder['pid']}" in refusal
    assert f"is writing {warehouse}" in refusal
    assert "Traceback" not in refused_output
    # a failed CLI run alerts without the daemon: once, naming the step and the writer
    alerts = [
        json.loads(line)
        for line in (tmp_path / "reports" / "alerts.jsonl").read_text().splitlines()
    ]
    assert len(alerts) == 1 and alerts[0]["run_id"] != holder["run_id"]
    assert any("is writing" in step["error"] for step in alerts[0]["failed_steps"])

    assert [first.returncode, second.returncode] == [0, 0], outputs
    # the one that waited said so while it waited, naming the writer
    waited = [" ".join(o.split()) for o in outputs if "waiting another run" in " ".join(o.split())]
    assert len(waited) == 1 and f"is writing {warehouse}" in waited[0]
    assert not any("Traceback" in o or "Could not set lock" in o for o in outputs)
    # the one that waited found nothing new: it skipped the build the other had published
    assert (
        sum("Nothing changed since the published build" in " ".join(o.split()) for o in outputs)
        == 1
    )
    with connection(warehouse, read_only=True) as con:
        failed = con.execute(
            "select count(*) from quality.check_results where not success and severity = 'error'"
        ).fetchone()[0]
        loaded = con.execute(
            "select count(*) from ingest.load_manifest where status = 'loaded'"
        ).fetchone()[0]
    assert failed == 0
    assert loaded == len([f for f in landing.rglob("*") if f.is_file()])  # each exactly once
    with connection(tmp_path / "serving.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_customer_360").fetchone()[0] == 3

    # the CLI's runs are in the Dagster instance that `make dagster` opens
    home = subprocess.run(
        [C360, "dagster-home"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(home) == Path(os.environ["DAGSTER_HOME"])
    with dg.DagsterInstance.from_config(home) as instance:
        runs = {r.run_id: r.status for r in instance.get_runs()}
        assert runs.get(holder["run_id"]) == dg.DagsterRunStatus.SUCCESS
        assert sum(s == dg.DagsterRunStatus.SUCCESS for s in runs.values()) >= 2
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "dim_customer_360"]))
