"""Operating it daily: the landing sensor, the schedules, a partition backfill, retries of a
transient failure and the alert for a permanent one, on real files and real runs."""

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.definitions import defs
from orchestration.jobs import BUILD_JOB, SNAPSHOT_JOB
from orchestration.lib.instance import open_instance
from orchestration.runner import execute_job
from tests.test_small_data import _write_ten_orders
from warehouse.connection import connection

REPO = defs.get_repository_def()


def _tick(sensor_name: str, cursor: str | None):
    sensor = REPO.get_sensor_def(sensor_name)
    context = dg.build_sensor_context(cursor=cursor, repository_def=REPO)
    result = sensor.evaluate_tick(context)
    return result.run_requests or [], result.skip_message, result.cursor


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_landing_sensor_starts_one_run_per_settled_new_file_and_none_otherwise(
    tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    monkeypatch.setenv("C360_LANDING_DIR", str(landing))
    monkeypatch.setenv("C360_SENSOR_SETTLE_SECONDS", "60")
    orders = landing / "sales" / "orders" / "orders_0001.csv"
    orders.parent.mkdir(parents=True)
    orders.write_text("order_id,customer_id,ordered_at\n1,C1,2024-01-01 10:00:00\n")

    runs, skip, cursor = _tick("landing_sensor", None)
    assert runs == [] and "still being written" in skip  # just written: not settled

    _age(orders, 120)
    runs, skip, cursor = _tick("landing_sensor", cursor)
    assert len(runs) == 1 and runs[0].job_name in (None, BUILD_JOB)

    runs, skip, cursor = _tick("landing_sensor", cursor)
    assert runs == [] and "no new settled files" in skip  # nothing new: no run

    # an upload still growing is not picked up until its size stops changing
    growing = landing / "crm" / "contacts" / "contacts_0002.csv"
    growing.parent.mkdir(parents=True)
    growing.write_text("contact_id,created_at\n")
    _age(growing, 120)
    runs, _, cursor = _tick("landing_sensor", cursor)
    assert runs == []
    with growing.open("a") as handle:
        handle.write("K1,2024-01-01 00:00:00\n")
    _age(growing, 120)
    runs, _, cursor = _tick("landing_sensor", cursor)
    assert runs == []  # the size changed since the last look
    runs, _, cursor = _tick("landing_sensor", cursor)
    assert len(runs) == 1
    # files the loader ignores never start a run
    (landing / "sales" / "orders" / "notes.txt").write_text("not data")
    (landing / "_truth").mkdir()
    (landing / "_truth" / "x.csv").write_text("a\n")
    runs, _, _ = _tick("landing_sensor", cursor)
    runs2, _, _ = _tick("landing_sensor", _tick("landing_sensor", cursor)[2])
    assert runs == [] and runs2 == []


def test_the_schedules_evaluate_to_runs_of_their_jobs():
    build = REPO.get_schedule_def(f"{BUILD_JOB}_schedule")
    assert build.cron_schedule == "0 3 * * *" and build.execution_timezone == "UTC"
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 7, 1, 3, 0))
    [request] = build.evaluate_tick(context).run_requests
    assert build.job_name == BUILD_JOB and request is not None
    snapshot = REPO.get_schedule_def(f"{SNAPSHOT_JOB}_schedule")
    [request] = snapshot.evaluate_tick(
        dg.build_schedule_context(
            scheduled_execution_time=datetime(2024, 7, 2, 4, 0), repository_def=REPO
        )
    ).run_requests
    assert request.partition_key == "2024-07-01"  # yesterday's snapshot


@pytest.fixture(scope="module")
def ten_orders_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("automation")
    _write_ten_orders(root / "landing")
    outcome = execute_job(landing=root / "landing", warehouse=root / "warehouse.duckdb")
    assert outcome.success
    return root, outcome


def test_the_landing_sensor_starts_no_run_for_files_already_loaded(
    ten_orders_build, tmp_path, monkeypatch
):
    root, _ = ten_orders_build
    landing = tmp_path / "landing"  # the same files the CLI run loaded, new to the sensor
    shutil.copytree(root / "landing", landing)
    for path in landing.rglob("*.csv"):
        _age(path, 120)
    monkeypatch.setenv("C360_LANDING_DIR", str(landing))
    monkeypatch.setenv("C360_WAREHOUSE_PATH", str(root / "warehouse.duckdb"))
    monkeypatch.setenv("C360_SENSOR_SETTLE_SECONDS", "60")
    runs, skip, cursor = _tick("landing_sensor", None)
    runs, skip, cursor = _tick("landing_sensor", cursor)  # settled: same size twice
    assert runs == [] and "already loaded (same content)" in skip
    # a file with new content starts a run
    extra = landing / "sales" / "orders" / "orders_0002.csv"
    extra.write_text("order_id,customer_id,ordered_at\nO77,C1,2024-02-01 10:00:00\n")
    _age(extra, 120)
    runs, _, cursor = _tick("landing_sensor", cursor)
    runs, _, cursor = _tick("landing_sensor", cursor)
    assert len(runs) == 1 and runs[0].tags["c360/new_files"] == "1"


def test_snapshot_days_after_the_as_of_date_are_skipped_not_failed(ten_orders_build, monkeypatch):
    root, outcome = ten_orders_build
    warehouse = root / "warehouse.duckdb"
    monkeypatch.setenv("C360_WAREHOUSE_PATH", str(warehouse))
    with connection(warehouse, read_only=True) as con:
        (as_of,) = con.execute("select max(as_of_date) from marts.dim_customer_360").fetchone()
    schedule = REPO.get_schedule_def(f"{SNAPSHOT_JOB}_schedule")

    def tick(day):  # the schedule fires at 04:00 the next day for that day
        moment = datetime.combine(day + timedelta(days=1), datetime.min.time()).replace(hour=4)
        context = dg.build_schedule_context(scheduled_execution_time=moment, repository_def=REPO)
        return schedule.evaluate_tick(context)

    [request] = tick(as_of).run_requests
    assert request.partition_key == as_of.isoformat()
    later = tick(as_of + timedelta(days=1))
    assert not later.run_requests and "after the warehouse's as-of date" in later.skip_message
    # a backfill reaching past the as-of date: that day's run succeeds and writes nothing
    job = defs.resolve_job_def(SNAPSHOT_JOB)
    with open_instance(outcome.settings.dagster_home) as instance:
        result = job.execute_in_process(
            partition_key=(as_of + timedelta(days=30)).isoformat(),
            instance=instance,
            run_config={"resources": {"c360": {"config": {"warehouse_path": str(warehouse)}}}},
        )
    assert result.success and result.get_asset_materialization_events() == []


def test_a_partition_backfill_over_three_days_builds_three_snapshots(ten_orders_build):
    root, outcome = ten_orders_build
    job = defs.resolve_job_def(SNAPSHOT_JOB)
    days = ["2024-02-15", "2024-03-15", "2024-06-15"]
    with open_instance(outcome.settings.dagster_home) as instance:
        for day in days:  # what a backfill over these partitions runs, one run per day
            result = job.execute_in_process(
                partition_key=day,
                instance=instance,
                run_config={
                    "resources": {
                        "c360": {"config": {"warehouse_path": str(root / "warehouse.duckdb")}}
                    }
                },
            )
            assert result.success
    with connection(root / "warehouse.duckdb", read_only=True) as con:
        counts = con.execute(
            "select cast(snapshot_date as varchar), sum(customers) "
            "from marts.fct_lifecycle_stage_daily group by 1 order by 1"
        ).fetchall()
        current = dict(
            con.execute(
                "select lifecycle_stage, count(*) from marts.dim_customer_360 group by 1"
            ).fetchall()
        )
        last_day = dict(
            con.execute(
                "select lifecycle_stage, customers from marts.fct_lifecycle_stage_daily "
                "where snapshot_date = '2024-06-15'"
            ).fetchall()
        )
    # independent: a customer exists on a day once its first order is on or before it
    orders = pd.read_csv(root / "landing" / "sales" / "orders" / "orders.csv", dtype=str)
    first = pd.to_datetime(
        orders.dropna(subset=["customer_id"]).groupby("customer_id")["ordered_at"].min()
    )
    expected = [(day, int((first.dt.date <= pd.Timestamp(day).date()).sum())) for day in days]
    assert [(d, int(n)) for d, n in counts] == expected
    assert last_day == current  # the as-of day's snapshot is the 360's current stages


def test_a_transient_lock_is_retried_and_the_run_succeeds(ten_orders_build, tmp_path):
    root, _ = ten_orders_build
    warehouse = tmp_path / "warehouse.duckdb"
    log_file = tmp_path / "run.log"
    # a foreign process holds DuckDB's lock until the run has hit it and is waiting to
    # retry (read from the run's log), whatever the machine's load
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time, pathlib\n"
            "c = duckdb.connect(sys.argv[1]); print('held', flush=True)\n"
            "log = pathlib.Path(sys.argv[2]); deadline = time.time() + 300\n"
            "while time.time() < deadline and not (log.exists() and "
            "'STEP_UP_FOR_RETRY' in log.read_text(errors='replace')):\n"
            "    time.sleep(0.2)\n"
            "c.close()",
            str(warehouse),
            str(log_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    outcome = execute_job(landing=root / "landing", warehouse=warehouse, log_file=log_file)
    holder.wait(timeout=60)
    retried = [
        e.step_key for e in outcome.result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"
    ]
    assert outcome.success, outcome.failures
    assert "raw_tables" in retried


class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_permanent_failure_writes_an_alert_naming_the_step(
    ten_orders_build, tmp_path, monkeypatch
):
    root, _ = ten_orders_build
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(b"this is not a DuckDB database" * 100)  # fails every attempt
    server = http.server.HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("C360_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("C360_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/alert")
    try:
        outcome = execute_job(landing=root / "landing", warehouse=warehouse)
        assert not outcome.success
        with open_instance(outcome.settings.dagster_home) as instance:
            run = instance.get_run_by_id(outcome.run_id)
            [failure] = instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            context = dg.build_run_status_sensor_context(
                sensor_name="run_failure_alert",
                dagster_event=failure.get_dagster_event(),
                dagster_instance=instance,
                dagster_run=run,
            ).for_run_failure()
            REPO.get_sensor_def("run_failure_alert")(context)  # direct invocation
    finally:
        server.shutdown()
    [alert] = [
        json.loads(line)
        for line in (tmp_path / "reports" / "alerts.jsonl").read_text().splitlines()
    ]
    assert alert["run_id"] == outcome.run_id
    [step] = alert["failed_steps"]
    assert step["step"] == "raw_tables" and "DuckDB" in step["error"]
    assert _Webhook.received == [alert]
