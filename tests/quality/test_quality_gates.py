"""GX gates on a real warehouse: a planted violation of each suite kind fails with the right
expectation and count; an error failure stops publishing and the serving database keeps
the previous good run; validations run in the database; results accumulate; Data Docs."""

import shutil
import uuid

import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from orchestration.runner import run_pipeline
from quality.data_docs import SITE
from quality.runner import UncheckedRows, run_suites, unchecked_rows
from quality.suites import SuiteSpec, all_suites
from tests.browser import CHROMIUM, FLAGS
from tests.conftest import build_demo_warehouse
from warehouse.connection import connection


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_demo_warehouse(tmp_path_factory.mktemp("gates"), scale=0.003, seed=9)


def _suite(name: str) -> SuiteSpec:
    return next(s for s in all_suites() if s.name == name)


def _validate_planted(built, tmp_path, suite: str, *statements: str):
    _, warehouse = built
    copy = tmp_path / "planted.duckdb"
    shutil.copy(warehouse, copy)
    with connection(copy) as con:
        for statement in statements:
            con.execute(statement)
    [outcome] = run_suites(copy, [_suite(suite)], run_id=f"planted-{uuid.uuid4()}")
    return {(f.expectation, f.column): f for f in outcome.failures}


@pytest.mark.parametrize(
    ("suite", "statements", "expectation", "column", "unexpected"),
    [
        (
            "raw.sales__orders.error",
            [
                "update raw.sales__orders set order_id = null where order_id in (select min(order_id) from raw.sales__orders)"
            ],
            "expect_column_values_to_not_be_null",
            "order_id",
            1,
        ),
        (
            "raw.sales__orders.error",
            [
                "update raw.sales__orders set status = 'lost' where order_id in (select order_id from raw.sales__orders order by order_id limit 3)"
            ],
            "expect_column_values_to_be_in_set",
            "status",
            3,
        ),
        (
            "raw.sales__order_lines.error",
            [
                "update raw.sales__order_lines set unit_price = -1 where order_line_id in (select order_line_id from raw.sales__order_lines order by 1 limit 2)"
            ],
            "expect_column_values_to_be_between",
            "unit_price",
            2,
        ),
        (
            "raw.crm__contacts.error",
            [
                "insert into raw.crm__contacts select * from raw.crm__contacts order by contact_id limit 1"
            ],
            "expect_compound_columns_to_be_unique",
            "contact_id,updated_at,_load_id",
            2,
        ),
        (
            "raw.crm__interactions.warn",
            [
                "update raw.crm__interactions set occurred_at = now()::timestamp + interval 30 day where interaction_id in (select min(interaction_id) from raw.crm__interactions)"
            ],
            "unexpected_rows_expectation",
            None,
            1,
        ),
        (
            "marts.dim_customer_360.error",
            [
                "update marts.dim_customer_360 set avg_csat_score = 9 where customer_key in (select customer_key from marts.dim_customer_360 where avg_csat_score is not null order by 1 limit 4)"
            ],
            "expect_column_values_to_be_between",
            "avg_csat_score",
            4,
        ),
        (
            "marts.fct_orders.error",
            [
                "update marts.fct_orders set net_amount = net_amount + 5 where order_id in (select order_id from marts.fct_orders order by 1 limit 1)"
            ],
            "unexpected_rows_expectation",
            None,
            1,
        ),
        (
            "marts.fct_feedback_monthly.error",
            [
                "update marts.fct_feedback_monthly set csat = 1.5 where response_month = (select min(response_month) from marts.fct_feedback_monthly where csat is not null) and breakdown = 'all'"
            ],
            "expect_column_values_to_be_between",
            "csat",
            1,
        ),
        (
            "marts.customer_identity_map.warn",
            [
                "update marts.customer_identity_map set component_size = 500 where record_id in (select record_id from marts.customer_identity_map order by 1 limit 5)"
            ],
            "expect_column_values_to_be_between",
            "component_size",
            5,
        ),
    ],
)
def test_planted_violation_fails_its_suite_with_the_right_expectation_and_count(
    built, tmp_path, suite, statements, expectation, column, unexpected
):
    failures = _validate_planted(built, tmp_path, suite, *statements)
    assert (expectation, column) in failures, failures
    assert failures[(expectation, column)].unexpected_count == unexpected


def test_the_raw_gate_checks_only_rows_no_gate_passed_and_keeps_failed_ones_pending(
    built, tmp_path
):
    _, warehouse = built
    copy = tmp_path / "new_load.duckdb"
    shutil.copy(warehouse, copy)
    suite = _suite("raw.sales__orders.error")
    # the build's gate passed every load: nothing is left to check
    assert unchecked_rows(copy) == {}
    with connection(copy) as con:
        # a new load of two orders, one of them without its order_id
        new_load = con.execute("select max(load_id) + 1 from ingest.load_manifest").fetchone()[0]
        con.execute(
            "insert into ingest.load_manifest select * replace (? as load_id, 2 as rows_loaded) "
            "from ingest.load_manifest where source = 'sales' and entity = 'orders' "
            "and status = 'loaded' limit 1",
            [new_load],
        )
        con.execute(
            "insert into raw.sales__orders select * replace (? as _load_id, "
            "case when row_number() over () = 1 then null else order_id end as order_id) "
            "from (select * from raw.sales__orders order by order_id limit 2)",
            [new_load],
        )
    assert unchecked_rows(copy) == {"sales__orders": UncheckedRows((new_load,), False)}

    [outcome] = run_suites(copy, [suite], "new-load-1", new_rows_only=True)
    failures = {f.expectation: f for f in outcome.failures}
    assert failures["expect_column_values_to_not_be_null"].unexpected_count == 1
    # only the new load's two rows were read, not the history
    assert {o.element_count for o in outcome.outcomes if o.element_count is not None} == {2}
    # still to be checked
    assert unchecked_rows(copy) == {"sales__orders": UncheckedRows((new_load,), False)}

    with connection(copy) as con:
        con.execute(
            "update raw.sales__orders set order_id = 'fixed-1' "
            "where order_id is null and _load_id = ?",
            [new_load],
        )
    [outcome] = run_suites(copy, [suite], "new-load-2", new_rows_only=True)
    assert outcome.success
    assert unchecked_rows(copy) == {}


def test_revenue_that_no_longer_reconciles_fails_the_360_suite(built, tmp_path):
    failures = _validate_planted(
        built,
        tmp_path,
        "marts.dim_customer_360.error",
        "update marts.dim_customer_360 set net_revenue = net_revenue + 10 "
        "where customer_key = (select min(customer_key) from marts.dim_customer_360)",
    )
    [failure] = [f for (e, _), f in failures.items() if e == "unexpected_rows_expectation"]
    assert "reconciles" in failure.details and failure.unexpected_count == 1


def test_row_count_falling_below_the_last_run_warns(built, tmp_path):
    failures = _validate_planted(
        built,
        tmp_path,
        "raw.sales__customers.warn",
        "delete from raw.sales__customers where customer_id in (select customer_id from raw.sales__customers limit 3)",
    )
    assert ("expect_table_row_count_to_be_between", None) in failures


def test_match_rate_falling_by_more_than_a_fifth_warns(built, tmp_path):
    """The previous run's match rate (kept in quality.measurements) is the baseline."""
    _, warehouse = built
    with connection(warehouse, read_only=True) as con:
        linked = con.execute(
            "select count(*) filter (where linked_by <> 'unlinked') from marts.customer_identity_map"
        ).fetchone()[0]
    assert linked > 0
    failures = _validate_planted(
        built,
        tmp_path,
        "marts.customer_identity_map.warn",
        "update marts.customer_identity_map set linked_by = 'unlinked' where record_id in "
        "(select record_id from marts.customer_identity_map where linked_by <> 'unlinked' "
        f"order by 1 limit {linked // 2})",
    )
    [failure] = [f for (e, _), f in failures.items() if e == "unexpected_rows_expectation"]
    assert "match rate" in failure.details


def test_stale_source_warns(built, tmp_path):
    failures = _validate_planted(
        built,
        tmp_path,
        "raw.crm__survey_responses.warn",
        "update raw.crm__survey_responses set _loaded_at = _loaded_at - interval 30 day",
    )
    assert any("delivered" in f.details for f in failures.values()), failures


def test_error_failure_blocks_publish_and_serving_keeps_the_last_good_run(built):
    landing, warehouse = built
    serving = warehouse.with_name("serving.duckdb")
    with connection(serving, read_only=True) as con:
        before = con.execute("select run_id, published_at from audit.publish_log").fetchall()
        customers = con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
    bytes_before = serving.read_bytes()
    # a writer outside the contract slips a keyless order into raw
    with connection(warehouse) as con:
        con.execute(
            "insert into raw.sales__orders (order_id, customer_id, ordered_at, status) "
            "values (null, 'x', timestamp '2024-01-01', 'completed')"
        )
    assert not run_pipeline(landing=landing, warehouse=warehouse)
    assert serving.read_bytes() == bytes_before
    with connection(serving, read_only=True) as con:
        assert (
            con.execute("select run_id, published_at from audit.publish_log").fetchall() == before
        )
        assert con.execute("select count(*) from marts.dim_customer_360").fetchone()[0] == customers
    with connection(warehouse, read_only=True) as con:
        runs = con.execute("select count(distinct run_id) from quality.check_results").fetchone()[0]
        failed = con.execute(
            "select suite, expectation, column_name, unexpected_count from quality.check_results "
            "where not success and severity = 'error'"
        ).fetchall()
    assert runs == 2  # results accumulate across runs
    assert (
        "raw.sales__orders.error",
        "expect_column_values_to_not_be_null",
        "order_id",
        1,
    ) in failed


def test_data_docs_list_raw_and_mart_suites_and_read_offline(built):
    """After a passing and a failing run: the index lists every suite validated (as the
    warehouse recorded them) with its latest result, and it and a result page open in a
    real browser with no request beyond the file itself."""
    from orchestration.lib.settings import resolve_settings

    site = resolve_settings(warehouse_path=str(built[1])).reports / "gx" / SITE
    with connection(built[1], read_only=True) as con:
        validated = {
            r[0] for r in con.execute("select distinct suite from quality.check_results").fetchall()
        }
    assert {s.split(".")[0] for s in validated} == {"raw", "marts"}
    pages = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        requests, errors = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for name, path in (("index", site / "index.html"), ("result", None)):
            if path is None:  # the latest result of the suite that failed
                row = page.locator("tr", has_text="raw.sales__orders.error")
                path = site / row.locator("td").nth(2).locator("a").get_attribute("href")
            page.goto(path.as_uri(), wait_until="load")
            pages[name] = (path.as_uri(), page.inner_text("body"))
        browser.close()
    assert errors == []
    assert requests == [uri for uri, _ in pages.values()]
    index = pages["index"][1]
    assert "Raw tables" in index and "Marts" in index
    for suite in validated:
        assert suite in index, suite
    failed_row = next(line for line in index.splitlines() if "raw.sales__orders.error" in line)
    assert "failed" in failed_row
    result = pages["result"][1]
    assert "Status: Failed" in result and "values must never be null" in result
    assert "1 unexpected values found" in result


def test_validation_runs_in_the_database_without_loading_the_table(tmp_path, monkeypatch):
    """3M rows are validated while no pandas DataFrame of more than 1,000 rows is built."""
    warehouse = tmp_path / "big.duckdb"
    with connection(warehouse) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.sales__order_lines as select 'l' || i as order_line_id, 'o' || (i // 3) as order_id, "
            "(i % 5)::bigint as quantity, (i % 97)::decimal(18, 4) as unit_price, null::varchar as product_id, "
            "0::decimal(18, 4) as discount_amount, i as _load_id from range(3000000) t(i)"
        )
    largest = []
    original = pd.DataFrame.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        largest.append(len(self))

    monkeypatch.setattr(pd.DataFrame, "__init__", spy)
    [outcome] = run_suites(warehouse, [_suite("raw.sales__order_lines.error")], run_id="big")
    assert outcome.success
    assert {o.element_count for o in outcome.outcomes if o.element_count} == {3_000_000}
    assert max(largest, default=0) <= 1_000
