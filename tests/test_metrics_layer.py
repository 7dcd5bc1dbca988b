"""The metrics layer: each metric MetricFlow computes, as published in the serving
database's ``metrics`` schema and as ``c360 metrics query`` returns it, against an
independent computation (pandas over the landing files, or plain SQL over the marts)."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.test_end_to_end import _orders_from_files
from warehouse.connection import connection


@pytest.fixture(scope="module")
def built(demo_build):
    landing, warehouse = demo_build
    return landing, warehouse.with_name("serving.duckdb")


def _served(serving: Path, sql: str) -> pd.DataFrame:
    with connection(serving, read_only=True) as con:
        return con.execute(sql).df()


def _person_of(landing: Path, source: str) -> pd.Series:
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    return truth[truth["source"] == source].set_index("record_id")["person_id"]


def _month(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.to_timestamp()


def _completed_by_person(landing: Path) -> pd.DataFrame:
    orders = _orders_from_files(landing)
    completed = orders[(orders["status"] == "completed") & orders["customer_id"].notna()].copy()
    completed["person"] = completed["customer_id"].map(_person_of(landing, "sales_customer"))
    completed["month"] = _month(completed["ordered_at"])
    return completed


def test_revenue_metrics_by_month_and_channel_match_the_order_files(built):
    landing, serving = built
    orders = _orders_from_files(landing)
    orders["month"] = _month(orders["ordered_at"])
    orders["is_completed"] = orders["status"] == "completed"
    orders["completed_gross"] = orders["gross"].where(orders["is_completed"], 0.0)
    completed = _completed_by_person(landing)
    expected = (
        orders.groupby(["month", "channel"])
        .agg(
            revenue=("net", "sum"),
            orders=("is_completed", "sum"),
            completed_gross=("completed_gross", "sum"),
        )
        .join(completed.groupby(["month", "channel"])["person"].nunique().rename("buyers"))
        .fillna({"buyers": 0})
    )
    served = _served(
        serving,
        "select metric_time__month as month, order__channel as channel, revenue::double as "
        "revenue, orders, average_order_value, purchasing_customers, "
        "revenue_per_purchasing_customer from metrics.revenue_monthly",
    ).set_index(["month", "channel"])
    assert sorted(served.index) == sorted(expected.index) and len(served) > 20
    expected = expected.loc[served.index]
    assert served["revenue"].to_numpy() == pytest.approx(expected["revenue"].to_numpy(), abs=0.01)
    assert (served["orders"] == expected["orders"]).all()
    aov = expected["completed_gross"] / expected["orders"].where(expected["orders"] > 0)
    assert served["average_order_value"].to_numpy() == pytest.approx(aov.to_numpy(), nan_ok=True)
    assert (served["purchasing_customers"] == expected["buyers"]).all()
    per_buyer = expected["revenue"] / expected["buyers"].where(expected["buyers"] > 0)
    assert served["revenue_per_purchasing_customer"].to_numpy() == pytest.approx(
        per_buyer.to_numpy(), nan_ok=True
    )


def test_repeat_purchase_rate_by_first_purchase_month_matches_the_order_files(built):
    landing, serving = built
    completed = _completed_by_person(landing)
    per_person = completed.groupby("person").agg(
        first=("month", "min"), orders=("order_id", "size")
    )
    expected = per_person.groupby("first").agg(
        buyers=("orders", "size"), repeat_buyers=("orders", lambda n: int((n >= 2).sum()))
    )
    served = _served(
        serving,
        "select metric_time__month as first, buyers, repeat_buyers, repeat_purchase_rate "
        "from metrics.repeat_purchase_by_cohort where metric_time__month is not null",
    ).set_index("first")
    assert served[["buyers", "repeat_buyers"]].astype(int).equals(expected.loc[served.index])
    assert sorted(served.index) == sorted(expected.index)
    rate = expected["repeat_buyers"] / expected["buyers"]
    assert served["repeat_purchase_rate"].to_numpy() == pytest.approx(
        rate.loc[served.index].to_numpy()
    )


def test_monthly_retention_matches_the_order_files(built):
    landing, serving = built
    completed = _completed_by_person(landing)
    active = completed.groupby("month")["person"].apply(set)
    served = _served(
        serving,
        "select metric_time__month as month, retained_customers, active_previous_month, "
        "period_retention_rate from metrics.retention_monthly",
    )
    assert len(served) > 20
    for row in served.itertuples():
        previous = active.get(row.month - pd.DateOffset(months=1), set())
        retained = previous & active.get(row.month, set())
        assert (row.retained_customers, row.active_previous_month) == (len(retained), len(previous))
        if previous:
            assert row.period_retention_rate == pytest.approx(len(retained) / len(previous))


def test_nps_and_csat_by_month_match_the_survey_files(built):
    landing, serving = built
    answers = pd.concat(
        pd.read_csv(f, dtype=str) for f in sorted((landing / "crm/survey_responses").glob("*.csv"))
    ).drop_duplicates("response_id")
    answers["score"] = pd.to_numeric(answers["score"], errors="coerce")
    answers["person"] = answers["contact_id"].map(_person_of(landing, "crm_contact"))
    answers["at"] = pd.to_datetime(answers["responded_at"])
    answers["month"] = _month(answers["responded_at"])
    answers = answers[answers["person"].notna()]
    nps = answers[(answers["survey_type"] == "nps") & answers["score"].between(0, 10)]
    latest = nps.sort_values(["at", "response_id"]).groupby(["month", "person"]).tail(1)
    by_month = latest.groupby("month")["score"]
    expected_nps = (
        100 * (by_month.apply(lambda s: (s >= 9).sum() - (s <= 6).sum())) / by_month.size()
    )
    csat = answers[(answers["survey_type"] == "csat") & answers["score"].between(1, 5)]
    expected_csat = csat.groupby("month")["score"].apply(lambda s: (s >= 4).mean())
    served = _served(
        serving,
        "select metric_time__month as month, nps, nps_respondents, csat, csat_answers "
        "from metrics.feedback_monthly",
    ).set_index("month")
    assert (served["nps_respondents"] == by_month.size().reindex(served.index, fill_value=0)).all()
    assert served["nps"].dropna().to_numpy() == pytest.approx(
        expected_nps.loc[served["nps"].dropna().index].to_numpy()
    )
    assert (
        served["csat_answers"] == csat.groupby("month").size().reindex(served.index, fill_value=0)
    ).all()
    assert served["csat"].dropna().to_numpy() == pytest.approx(
        expected_csat.loc[served["csat"].dropna().index].to_numpy()
    )
    assert served["nps"].notna().sum() > 12 and served["csat"].notna().sum() > 12


# The metrics below read marts that already aggregate (cohorts, AARRR) or per-customer
# attributes (stage, segment, CLV): plain SQL over those marts is the independent check.
MART_EQUIVALENTS = {
    "cohort_retention": (
        "select metric_time__month, cohort__months_since_first_purchase, cohort_retention, "
        "cohort_size, cohort_active_customers from metrics.cohort_retention",
        "select cohort_month, months_since_first_purchase, active_customers / cohort_customers, "
        "cohort_customers, active_customers from marts.fct_retention_cohorts",
    ),
    "aarrr_monthly": (
        "select metric_time__month, aarrr__acquisition_channel, new_leads, activated_leads, "
        "activation_rate, returning_buyers, referrals, promoter_answers from metrics.aarrr_monthly",
        "select activity_month, acquisition_channel, new_leads, activated_leads, "
        "activated_leads / nullif(new_leads, 0), returning_buyers, referrals, promoter_answers "
        "from marts.fct_aarrr_monthly",
    ),
    "customer_value_by_segment": (
        "select customer__lifecycle_stage, customer__rfm_segment, customers, buyers, "
        "repeat_purchase_rate, clv_customers, round(historical_clv, 2), round(predicted_clv, 2) "
        "from metrics.customer_value_by_segment",
        "select lifecycle_stage, rfm_segment, count(*), count(*) filter (completed_orders >= 1), "
        "count(*) filter (completed_orders >= 2) / nullif(count(*) filter (completed_orders >= 1), 0), "
        "count(predicted_clv), round(avg(historical_clv) filter (predicted_clv is not null), 2), "
        "round(avg(predicted_clv), 2) from marts.dim_customer_360 group by all",
    ),
    "revenue_by_segment": (
        "select metric_time__month, customer__lifecycle_stage, customer__rfm_segment, revenue, "
        "orders from metrics.revenue_by_segment",
        "select date_trunc('month', o.ordered_date), c.lifecycle_stage, c.rfm_segment, "
        "sum(o.net_amount), count(*) filter (o.is_completed) "
        "from marts.fct_orders o left join marts.dim_customer_360 c using (customer_key) group by all",
    ),
    "feedback_by_lifecycle_stage": (
        "select metric_time__month, survey_response__lifecycle_stage_at_response, round(nps, 2), "
        "nps_respondents from metrics.feedback_by_lifecycle_stage where nps_respondents > 0",
        "select response_month, breakdown_value, nps, nps_respondents from "
        "marts.fct_feedback_monthly where breakdown = 'lifecycle_stage' and nps_respondents > 0",
    ),
}


@pytest.mark.parametrize("table", sorted(MART_EQUIVALENTS))
def test_metric_tables_equal_plain_sql_over_the_marts(built, table):
    _, serving = built
    metric_sql, mart_sql = MART_EQUIVALENTS[table]

    def rows(sql):
        frame = _served(serving, sql)
        frame.columns = range(frame.shape[1])
        return frame.sort_values(list(frame.columns[:3])).reset_index(drop=True).astype(object)

    metric, mart = rows(metric_sql), rows(mart_sql)
    assert len(metric) == len(mart) > 0
    pd.testing.assert_frame_equal(
        metric.astype(str).replace({"None": "nan", "<NA>": "nan", "NaT": "nan"}).pipe(_rounded),
        mart.astype(str).replace({"None": "nan", "<NA>": "nan", "NaT": "nan"}).pipe(_rounded),
    )


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to 6 significant digits, so 0.1 + 0.2 and 0.3 compare equal."""

    def one(value: str) -> str:
        try:
            return f"{float(value):.6g}"
        except ValueError:
            return value.removesuffix(" 00:00:00")

    return frame.map(one)


def test_metrics_query_on_the_serving_database_equals_plain_sql(built, tmp_path):
    _, serving = built
    out = tmp_path / "revenue_by_tier.csv"
    warehouse = serving.with_name("warehouse.duckdb")
    args = ["metrics", "query", "-m", "revenue", "-m", "orders", "-g", "customer__loyalty_tier"]
    result = CliRunner().invoke(app, [*args, "--warehouse", str(warehouse), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    queried = pd.read_csv(out).fillna({"customer__loyalty_tier": "none"})
    expected = _served(
        serving,
        "select coalesce(c.loyalty_tier, 'none') as customer__loyalty_tier, "
        "sum(o.net_amount)::double as revenue, count(*) filter (o.is_completed) as orders "
        "from marts.fct_orders o left join marts.dim_customer_360 c using (customer_key) "
        "group by all",
    )
    joined = queried.merge(expected, on="customer__loyalty_tier", suffixes=("", "_sql"))
    assert len(joined) == len(expected) == len(queried) >= 3
    assert joined["revenue"].to_numpy() == pytest.approx(joined["revenue_sql"].to_numpy())
    assert (joined["orders"] == joined["orders_sql"]).all()

    unknown = CliRunner().invoke(
        app, ["metrics", "query", "-m", "no_such_metric", "--warehouse", str(warehouse)]
    )
    assert unknown.exit_code == 2 and "no_such_metric" in unknown.output


def test_metrics_list_names_every_metric_and_published_table():
    from orchestration.lib.semantic_manifest import load_semantic_manifest, saved_queries

    manifest = load_semantic_manifest()
    listed = CliRunner().invoke(app, ["metrics", "list"], terminal_width=400)
    assert listed.exit_code == 0, listed.output
    for metric in manifest["metrics"]:
        assert f"\n{metric['name']} ({metric['type']})" in f"\n{listed.output}"
    for saved in saved_queries(manifest):
        assert f"metrics.{saved['name']}: " in listed.output
