"""A rerun with nothing new skips dbt, the mart gate and publishing; anything new builds.

(`--rebuild` only turns the skip off; the builds here already cover what it runs.)"""

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from ingestion.demo.generator import GenerateOptions, generate
from orchestration.cli import app
from orchestration.lib.build_state import code_fingerprint, raw_fingerprint
from orchestration.lib.settings import DBT_PROJECT_DIR
from orchestration.runner import execute_job


def _materialized(outcome) -> set[str]:
    return {"/".join(key.path) for key in outcome.materialized}


def _skipped_steps(outcome) -> set[str]:
    return {e.step_key for e in outcome.result.all_events if e.event_type_value == "STEP_SKIPPED"}


def _published_run(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute("select run_id from audit.publish_log").fetchone()[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    serving = warehouse.with_name("serving.duckdb")
    generate(GenerateOptions(out=landing, scale=0.003, seed=11))
    results = {"first": execute_job(landing=landing, warehouse=warehouse)}
    published_bytes = serving.read_bytes()
    results["unchanged"] = execute_job(landing=landing, warehouse=warehouse)
    unchanged_bytes = serving.read_bytes()
    (landing / "crm" / "contacts" / "contacts_9001_late.csv").write_text(
        "contact_id,created_at,email,phone,first_name\n"
        "late-1,2024-01-01 00:00:00,late.arrival@example.org,,Ada\n"
    )
    results["new_file"] = execute_job(landing=landing, warehouse=warehouse)
    cli = CliRunner().invoke(app, ["run", "--landing", str(landing), "--warehouse", str(warehouse)])
    return results, serving, published_bytes, unchanged_bytes, cli


def test_first_run_builds_and_publishes(runs):
    results, serving, *_ = runs
    assert results["first"].success
    assert "marts/dim_customer_360" in _materialized(results["first"])
    assert _published_run(serving) != results["unchanged"].run_id


def test_rerun_with_nothing_new_skips_the_build_and_keeps_serving_byte_identical(runs):
    results, _, published_bytes, unchanged_bytes, _ = runs
    rerun = results["unchanged"]
    assert rerun.success
    assert not {k for k in _materialized(rerun) if k.startswith(("marts/", "serving/"))}
    assert {"mart_quality_gate", "serving__warehouse"} <= _skipped_steps(rerun)
    assert rerun.build_skipped and not results["new_file"].build_skipped
    assert unchanged_bytes == published_bytes


def test_a_newly_landed_file_triggers_a_build(runs):
    results, serving, *_ = runs
    assert results["new_file"].success
    assert "marts/dim_customer_360" in _materialized(results["new_file"])
    assert _published_run(serving) == results["new_file"].run_id


def test_the_cli_says_when_a_run_skipped_the_build(runs):
    *_, cli = runs
    assert cli.exit_code == 0, cli.output
    assert "Nothing changed since the published build" in " ".join(cli.output.split())


def test_code_fingerprint_changes_when_a_model_changes(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = code_fingerprint(project, python_files=[])
    assert code_fingerprint(project, python_files=[]) == before
    model = project / "models" / "marts" / "core" / "dim_customer_360.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert code_fingerprint(project, python_files=[]) != before


def test_raw_fingerprint_sees_rows_written_around_the_loader(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema raw; create table raw.t (x int)")
        empty = raw_fingerprint(con)
        con.execute("insert into raw.t values (1)")
        assert raw_fingerprint(con) != empty


def _raw_metadata(outcome, table: str) -> dict:
    [event] = [
        e
        for e in outcome.result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", table])
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_raw_assets_report_the_table_rows_and_what_this_run_added(runs):
    results, serving, *_ = runs
    warehouse = serving.with_name("warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders = con.execute("select count(*) from raw.sales__orders").fetchone()[0]
    first = _raw_metadata(results["first"], "sales__orders")
    rerun = _raw_metadata(results["unchanged"], "sales__orders")
    assert first["dagster/row_count"] == first["rows_added"] == orders > 0
    assert rerun["dagster/row_count"] == orders and rerun["rows_added"] == 0
