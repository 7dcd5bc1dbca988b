"""The benchmark at a small scale, which is also how a data engineer's day goes: a full
build, a rerun with nothing new (no gate, dbt or publishing work), then two more days of
files across entities, one after the other (each builds incrementally and publishes). The
smoke part asserts that `c360 bench` produces every figure, never what a timing is.

(`--rebuild` only turns the skip off; the builds here already cover what it runs.)"""

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.bench import (
    DETAIL_MARKER,
    append_markdown,
    run_benchmark,
    write_details,
    write_json,
)
from orchestration.cli import app
from orchestration.lib.settings import DBT_PROJECT_DIR

SCALE = 0.003


def _materialized(outcome) -> set[str]:
    return {"/".join(key.path) for key in outcome.materialized}


def _skipped_steps(outcome) -> set[str]:
    return {e.step_key for e in outcome.result.all_events if e.event_type_value == "STEP_SKIPPED"}


def _published_run(serving: Path) -> str:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute("select run_id from audit.publish_log").fetchone()[0]


def _dbt_log(run_id: str) -> str:
    """What dbt logged in this run's invocation (its own target folder), or ''."""
    logs = DBT_PROJECT_DIR.glob(f"target/dbt_models-{run_id[:7]}-*/dbt.log")
    return "".join(log.read_text() for log in logs)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    runs: dict[str, dict] = {}

    def observe(name, outcome, warehouse):
        serving = warehouse.with_name("serving.duckdb")
        runs[name] = {
            "dbt_log": _dbt_log(outcome.run_id),
            "outcome": outcome,
            "serving": serving,
            "served_bytes": serving.read_bytes(),
            "served_run": _published_run(serving),
            "landing": warehouse.parent / "landing",
            "warehouse": warehouse,
        }

    result = run_benchmark(SCALE, workdir, seed=11, on_run=observe, days=2)
    last = runs["incremental"]
    cli = CliRunner().invoke(
        app, ["run", "--landing", str(last["landing"]), "--warehouse", str(last["warehouse"])]
    )
    return result, runs, cli, workdir


def test_the_benchmark_produces_every_figure(bench, tmp_path):
    result, _, _, workdir = bench
    document = write_json([result], tmp_path / "BENCHMARKS.json")
    size = document["sizes"][0]
    for key in ("floor_s", "full_s", "full_over_floor", "incremental_s", "noop_s"):
        assert size[key] > 0, key
    assert size["incremental_over_full"] > 0 and 0 < size["quality_share"] < 1
    assert size["peak_rss_mb"] > 0
    assert {"dbt_models", "raw_quality_gate", "mart_quality_gate"} <= set(size["full_steps_s"])
    assert "dbt_models" in size["incremental_steps_s"]
    # the order lines counted independently: every line of the history delivery's files
    history = next(workdir.glob("data_*")) / "deliveries" / "delivery_00"
    lines = sum(
        len(gzip.decompress(path.read_bytes()).decode().splitlines()) - 1  # less the header
        for path in (history / "sales" / "order_lines").iterdir()
    )
    assert size["order_lines"] == lines
    assert size["rows"]["sales/order_lines"] >= lines and size["generate_s"] > 0
    assert size["slowest_models_full_s"] and size["slowest_models_incremental_s"]
    # the daily series: each held-back day run in turn, the first is the incremental run
    assert len(size["daily_s"]) == 2 and all(d > 0 for d in size["daily_s"])
    assert size["daily_s"][0] == size["incremental_s"]
    markdown = tmp_path / "BENCHMARKS.md"
    append_markdown(result, markdown)
    write_details([result], markdown)
    row = next(line for line in markdown.read_text().splitlines() if line.startswith("| 20"))
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert len(cells) == 15 and all(cells), row
    detail = markdown.read_text().partition(DETAIL_MARKER)[2]
    slowest_model = next(iter(size["slowest_models_full_s"]))
    assert f"slowest dbt models: {slowest_model}" in detail
    assert f"sales/order_lines {size['rows']['sales/order_lines']:,}" in detail
    assert "2 consecutive daily deliveries" in detail
    assert json.loads((tmp_path / "BENCHMARKS.json").read_text())["sizes"][0] == size


def test_the_full_build_builds_and_publishes(bench):
    _, runs, _, _ = bench
    full = runs["full"]
    assert full["outcome"].success
    assert "marts/dim_customer_360" in _materialized(full["outcome"])
    assert full["served_run"] == full["outcome"].run_id


def _check_evaluations(outcome) -> list:
    return [e for e in outcome.result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]


def _stored_results(warehouse: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select suite, expectation, element_count from quality.check_results where run_id = ?",
            [run_id],
        ).fetchall()


def test_a_rerun_with_nothing_new_does_no_gate_dbt_or_publish_work(bench):
    _, runs, _, _ = bench
    rerun = runs["nothing_new"]["outcome"]
    assert rerun.success and rerun.build_skipped
    assert not {k for k in _materialized(rerun) if k.startswith(("marts/", "serving/"))}
    assert {"mart_quality_gate", "serving__warehouse"} <= _skipped_steps(rerun)
    # no gate ran: no check evaluated (dbt tests included), no GX result stored
    assert _check_evaluations(rerun) == []
    assert _stored_results(runs["nothing_new"]["warehouse"], rerun.run_id) == []
    assert runs["nothing_new"]["served_bytes"] == runs["full"]["served_bytes"]


def test_the_raw_gate_of_a_daily_run_checks_only_the_rows_that_run_loaded(bench):
    _, runs, _, _ = bench
    day = runs["incremental"]["outcome"]
    warehouse = runs["incremental"]["warehouse"]
    # what this run loaded, counted from raw itself through the load manifest
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = dict(
            con.execute(
                "select source || '__' || entity, sum(rows_loaded) from ingest.load_manifest "
                "where batch_id = ? and status = 'loaded' and rows_loaded > 0 group by 1",
                [day.run_id],
            ).fetchall()
        )
        in_raw = {
            table: con.execute(
                f"select count(*) from raw.{table} where _load_id in (select load_id from "
                "ingest.load_manifest where batch_id = ?)",
                [day.run_id],
            ).fetchone()[0]
            for table in loaded
        }
        history = {
            table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for (table,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
    assert loaded and loaded == in_raw
    checked = {
        suite.split(".")[1]: element_count
        for suite, expectation, element_count in _stored_results(warehouse, day.run_id)
        if suite.endswith(".error") and expectation == "expect_column_values_to_not_be_null"
    }
    # the row rules ran on the new rows of each table that received any, on no other table
    assert checked == in_raw
    # tables this day brought nothing to (products, profiles...) were not checked again
    untouched = {t for t, rows in history.items() if rows} - set(loaded)
    assert untouched and not untouched & set(checked)


def test_each_more_day_of_files_builds_and_publishes(bench):
    _, runs, _, _ = bench
    for name in ("incremental", "day_02"):
        day = runs[name]["outcome"]
        assert day.success and not day.build_skipped, name
        assert "marts/dim_customer_360" in _materialized(day), name
        assert runs[name]["served_run"] == day.run_id, name


def test_a_daily_run_reuses_the_parsed_dbt_project(bench):
    _, runs, _, _ = bench
    reparsed = ("Unable to do partial parsing", "Partial parse save file not found")
    # the first build of this warehouse parses the whole project (its vars are new)...
    assert any(text in runs["full"]["dbt_log"] for text in reparsed)
    # ...and the next day's build, with a new as-of date, reuses it
    assert runs["day_02"]["dbt_log"]
    assert not any(text in runs["day_02"]["dbt_log"] for text in reparsed)


def test_the_cli_says_when_a_run_skipped_the_build(bench):
    _, _, cli, _ = bench
    assert cli.exit_code == 0, cli.output
    assert "Nothing changed since the published build" in " ".join(cli.output.split())
