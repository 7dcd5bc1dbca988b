"""The whole pipeline on small generated data, checked against independent computations
over the generated files and the generator's ground truth (never the code's own output)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from orchestration.lib.dbt import ensure_manifest
from warehouse.connection import connection


@pytest.fixture(scope="module")
def built(demo_build):
    return demo_build


def _orders_from_files(landing: Path) -> pd.DataFrame:
    """Orders as the contract defines them, computed with pandas from the landed CSVs."""
    files = sorted((landing / "sales/orders").glob("*.csv"))
    orders = pd.concat([pd.read_csv(f, dtype=str).assign(_file=i) for i, f in enumerate(files)])
    orders = orders[orders["status"].isin(["completed", "cancelled", "refunded"])]
    orders = orders.drop_duplicates(["order_id", "updated_at"])
    orders["updated_at"] = pd.to_datetime(orders["updated_at"])
    orders = orders.sort_values(["order_id", "updated_at", "_file"]).groupby("order_id").tail(1)
    lines = pd.read_csv(landing / "sales/order_lines/order_lines_0001.csv.gz", dtype=str)
    lines["quantity"] = pd.to_numeric(lines["quantity"], errors="coerce")
    lines = lines.dropna(subset=["quantity"])
    lines["amount"] = lines["quantity"] * lines["unit_price"].astype(float) - lines[
        "discount_amount"
    ].astype(float)
    amount = lines.groupby("order_id")["amount"].sum()
    orders["amount"] = orders["order_id"].map(amount).fillna(0.0)
    billable = orders["status"].isin(["completed", "refunded"])
    orders["gross"] = orders["amount"].clip(lower=0).where(billable, 0.0)
    orders["refund"] = orders["amount"].abs().where(orders["status"] == "refunded", 0.0)
    orders["net"] = orders["gross"] - orders["refund"]
    return orders


def test_one_row_per_unified_customer_matching_ground_truth(built):
    landing, warehouse = built
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    with connection(warehouse, read_only=True) as con:
        mapped = con.execute(
            "select record_source, record_id, customer_key from marts.customer_identity_map"
        ).df()
        n_customers, n_keys = con.execute(
            "select count(*), count(distinct customer_key) from marts.dim_customer_360"
        ).fetchone()
    assert n_customers == n_keys
    joined = truth.merge(
        mapped, left_on=["source", "record_id"], right_on=["record_source", "record_id"]
    )
    assert len(joined) >= len(truth) - 5  # only planted bad rows may be missing
    assert n_customers == mapped["customer_key"].nunique()

    # precision and recall of same-person pairs
    def pairs(counts):
        return int((counts * (counts - 1) // 2).sum())

    true_positive = pairs(joined.groupby(["person_id", "customer_key"]).size())
    precision = true_positive / pairs(joined.groupby("customer_key").size())
    recall = true_positive / pairs(joined.groupby("person_id").size())
    print(f"identity precision={precision:.4f} recall={recall:.4f}")
    assert precision >= 0.99 and recall >= 0.99
    assert n_customers == joined["person_id"].nunique()


def test_revenue_reconciles_with_the_order_files(built):
    landing, warehouse = built
    expected = _orders_from_files(landing)
    with connection(warehouse, read_only=True) as con:
        fct = con.execute(
            "select count(*), sum(gross_amount)::double, sum(refund_amount)::double, sum(net_amount)::double "
            "from marts.fct_orders"
        ).fetchone()
        dim_net = con.execute(
            "select sum(net_revenue)::double from marts.dim_customer_360"
        ).fetchone()[0]
    assert fct[0] == len(expected)
    assert fct[1] == pytest.approx(expected["gross"].sum(), abs=0.01)
    assert fct[2] == pytest.approx(expected["refund"].sum(), abs=0.01)
    assert fct[3] == pytest.approx(expected["net"].sum(), abs=0.01)
    known = expected[expected["customer_id"].notna()]
    assert dim_net == pytest.approx(known["net"].sum(), abs=0.01)


def test_repeat_purchase_rate_matches_an_independent_computation(built):
    landing, warehouse = built
    orders = _orders_from_files(landing)
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    person_of = truth[truth["source"] == "sales_customer"].set_index("record_id")["person_id"]
    completed = orders[(orders["status"] == "completed") & orders["customer_id"].notna()]
    per_person = (
        completed.assign(person=completed["customer_id"].map(person_of)).groupby("person").size()
    )
    expected_rate = (per_person >= 2).sum() / (per_person >= 1).sum()
    with connection(warehouse, read_only=True) as con:
        rate = con.execute(
            "select count(*) filter (where completed_orders >= 2) / count(*) filter (where completed_orders >= 1) "
            "from marts.dim_customer_360"
        ).fetchone()[0]
        mart_rate = con.execute(
            "select repeat_purchase_rate from marts.fct_repeat_purchase_rate where cohort = 'all'"
        ).fetchone()[0]
    assert rate == pytest.approx(expected_rate)
    assert mart_rate == pytest.approx(expected_rate)


def test_first_cohort_retention_matches_an_independent_computation(built):
    landing, warehouse = built
    orders = _orders_from_files(landing)
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    person_of = truth[truth["source"] == "sales_customer"].set_index("record_id")["person_id"]
    completed = orders[(orders["status"] == "completed") & orders["customer_id"].notna()].copy()
    completed["person"] = completed["customer_id"].map(person_of)
    completed["month"] = pd.to_datetime(completed["ordered_at"]).dt.to_period("M")
    first = completed.groupby("person")["month"].min()
    cohort_month = first.min()
    cohort = set(first[first == cohort_month].index)
    expected = [
        len(
            set(
                completed[
                    (completed["month"] == cohort_month + k) & completed["person"].isin(cohort)
                ]["person"]
            )
        )
        for k in range(6)
    ]
    with connection(warehouse, read_only=True) as con:
        rows = con.execute(
            "select cohort_customers, active_customers from marts.fct_retention_cohorts "
            "where cohort_month = ? and months_since_first_purchase < 6 order by months_since_first_purchase",
            [cohort_month.to_timestamp().date()],
        ).fetchall()
    assert [size for size, _ in rows] == [len(cohort)] * 6
    assert [active for _, active in rows] == expected


def test_nps_for_a_month_matches_an_independent_computation(built):
    landing, warehouse = built
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    person_of = truth[truth["source"] == "crm_contact"].set_index("record_id")["person_id"]
    answers = pd.concat(
        pd.read_csv(f, dtype=str) for f in sorted((landing / "crm/survey_responses").glob("*.csv"))
    )
    answers["score"] = pd.to_numeric(answers["score"], errors="coerce")
    answers = answers[(answers["survey_type"] == "nps") & answers["score"].between(0, 10)]
    answers = answers.drop_duplicates("response_id")
    answers["person"] = answers["contact_id"].map(person_of)
    answers["at"] = pd.to_datetime(answers["responded_at"])
    answers["month"] = answers["at"].dt.to_period("M")
    month = answers["month"].value_counts().idxmax()
    latest = (
        answers[answers["month"] == month]
        .sort_values(["at", "response_id"])
        .groupby("person")
        .tail(1)
    )
    expected = 100 * ((latest["score"] >= 9).sum() - (latest["score"] <= 6).sum()) / len(latest)
    with connection(warehouse, read_only=True) as con:
        nps, respondents = con.execute(
            "select nps, nps_respondents from marts.fct_feedback_monthly "
            "where breakdown = 'all' and response_month = ?",
            [month.to_timestamp().date()],
        ).fetchone()
    assert respondents == len(latest)
    assert float(nps) == pytest.approx(expected, abs=0.005)


def test_published_serving_database_holds_the_marts(built):
    _, warehouse = built
    serving = warehouse.with_name("serving.duckdb")
    with connection(serving, read_only=True) as con:
        served = con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
        assert con.execute("select count(*) from audit.publish_log").fetchone()[0] == 1
        assert (
            con.execute(
                "select count(*) from quality.check_results where not success and severity = 'error'"
            ).fetchone()[0]
            == 0
        )
    with connection(warehouse, read_only=True) as con:
        assert served == con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
        stages = dict(
            con.execute(
                "select lifecycle_stage, count(*) from marts.dim_customer_360 group by 1"
            ).fetchall()
        )
    seeded = pd.read_csv(Path(ensure_manifest()).parents[1] / "seeds" / "lifecycle_stages.csv")
    assert set(stages) <= set(seeded["lifecycle_stage"])
    assert len(stages) >= 5


# --- the dbt project documents every model and column and tests every primary key


def _manifest() -> dict:
    return json.loads(ensure_manifest().read_text())


def test_every_model_and_column_is_documented(built):
    _, warehouse = built
    manifest = _manifest()
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    undocumented = []
    with connection(warehouse, read_only=True) as con:
        for model in models:
            if not model["description"].strip():
                undocumented.append(model["name"])
            documented = {
                name for name, col in model["columns"].items() if col["description"].strip()
            }
            built_columns = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [model["schema"], model["alias"]],
                ).fetchall()
            ]
            assert built_columns, f"{model['name']} was not built"
            undocumented += [f"{model['name']}.{c}" for c in built_columns if c not in documented]
    assert undocumented == []


def test_every_model_has_a_unique_and_not_null_key_test():
    manifest = _manifest()
    tests_by_model: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            for parent in node["depends_on"]["nodes"]:
                tests_by_model.setdefault(parent, set()).add(node["test_metadata"]["name"])
    missing = [
        n["name"]
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
        and not {"unique", "not_null"} <= tests_by_model.get(uid, set())
    ]
    assert missing == []


def _stages_from_files(landing: Path, as_of: pd.Timestamp) -> pd.Series:
    """Current lifecycle stage per person (ground-truth identity), from the raw files alone,
    by the rules in domain.md (churn window 365 days, top tiers gold and platinum)."""
    truth = pd.read_csv(landing / "_truth/identity.csv", dtype=str)
    person = {
        (s, r): p for s, r, p in truth[["source", "record_id", "person_id"]].itertuples(index=False)
    }
    people = pd.DataFrame(index=truth["person_id"].unique())

    orders = _orders_from_files(landing)
    completed = orders[(orders["status"] == "completed") & orders["customer_id"].notna()].copy()
    completed["person"] = [person.get(("sales_customer", c)) for c in completed["customer_id"]]
    completed["at"] = pd.to_datetime(completed["ordered_at"])
    people["orders"] = completed.groupby("person").size()
    people["last_order"] = completed.groupby("person")["at"].max()

    answers = pd.concat(
        pd.read_csv(f, dtype=str) for f in sorted((landing / "crm/survey_responses").glob("*.csv"))
    )
    answers["score"] = pd.to_numeric(answers["score"], errors="coerce")
    answers = answers[
        (answers["survey_type"] == "nps") & answers["score"].between(0, 10)
    ].drop_duplicates("response_id")
    answers["person"] = [person.get(("crm_contact", c)) for c in answers["contact_id"]]
    answers["at"] = pd.to_datetime(answers["responded_at"])
    latest = (
        answers.sort_values(["at", "response_id"]).groupby("person").tail(1).set_index("person")
    )
    people["promoter"] = latest["score"] >= 9

    social = pd.concat(
        pd.read_json(f, lines=True, dtype=False)
        for f in sorted((landing / "social/interactions").glob("*.jsonl"))
    )
    referrals = social[social["interaction_type"] == "referral"]
    people["referrer"] = pd.Series(
        True, index={person.get(("social_profile", p)) for p in referrals["profile_id"]}
    )

    loyalty = pd.concat(
        pd.read_json(f, lines=True, dtype=False)
        for f in sorted((landing / "crm/loyalty_events").glob("*.jsonl"))
    )
    tiers = loyalty[loyalty["tier"].notna()].copy()
    tiers["person"] = [person.get(("crm_contact", c)) for c in tiers["contact_id"]]
    tiers["at"] = pd.to_datetime(tiers["occurred_at"])
    people["top_tier"] = (
        tiers.sort_values(["at", "event_id"])
        .groupby("person")["tier"]
        .last()
        .isin(["gold", "platinum"])
    )

    lead_people = set(truth[truth["source"].isin(["crm_contact", "sales_customer"])]["person_id"])
    people = people.fillna({"orders": 0, "promoter": False, "referrer": False, "top_tier": False})
    days_since = (as_of - people["last_order"].dt.normalize()).dt.days

    def stage(row, days):
        if row.orders >= 1 and days > 365:
            return "lapsed"
        if row.orders >= 2 and (row.promoter or row.referrer or row.top_tier):
            return "loyalty_advocacy"
        if row.orders >= 2:
            return "retention"
        if row.orders == 1:
            return "conversion"
        return "acquisition" if row.Index in lead_people else "reach_awareness"

    return pd.Series(
        [stage(r, d) for r, d in zip(people.itertuples(), days_since, strict=True)],
        index=people.index,
    )


def test_stage_counts_match_an_independent_computation(built):
    landing, warehouse = built
    with connection(warehouse, read_only=True) as con:
        counts = dict(
            con.execute(
                "select lifecycle_stage, count(*) from marts.dim_customer_360 group by 1"
            ).fetchall()
        )
        as_of = con.execute("select any_value(as_of_date) from marts.dim_customer_360").fetchone()[
            0
        ]
    expected = _stages_from_files(landing, pd.Timestamp(as_of)).value_counts().to_dict()
    print(f"stage counts: warehouse {counts}, independent {expected}")
    assert counts == expected


def test_every_served_table_and_column_is_documented_with_bi_types(built):
    _, warehouse = built
    with connection(warehouse.with_name("serving.duckdb"), read_only=True) as con:
        undocumented_tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where not internal and (comment is null or comment = '')"
        ).fetchall()
        undocumented_columns = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where not internal and (comment is null or comment = '')"
        ).fetchall()
        types = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name in ('marts', 'metrics', 'quality', 'audit')"
        ).fetchall()
        tables = con.execute("select count(*) from duckdb_tables()").fetchone()[0]
        metric_tables = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'metrics'"
        ).fetchone()[0]
    assert tables >= 40  # 27 marts, 10 metrics tables, 2 quality tables, the publish log
    assert metric_tables >= 10  # the saved queries and the time spine
    assert undocumented_tables == [] and undocumented_columns == []
    assert [t for t in types if t[2] == "HUGEINT"] == []
    # a month is the DATE of its first day (active_previous_month is a count)
    months = [t for t in types if t[1].endswith("_month") and not t[1].startswith("is_")]
    assert {t[2] for t in months if t[2] != "BIGINT"} == {"DATE"}
    assert {t[2] for t in types if t[1].endswith("_clv")} == {"DECIMAL(18,4)"}
    assert {t[2] for t in types if t[2].startswith("DECIMAL")} == {"DECIMAL(18,4)", "DECIMAL(5,4)"}
    assert ("publish_log", "as_of", "DATE") in types
    # bookkeeping of the incremental marts (the load that last rewrote a row) is not served
    with connection(warehouse, read_only=True) as con:
        kept = con.execute(
            "select count(*) from duckdb_columns() where schema_name = 'marts' "
            "and column_name = '_last_load_id'"
        ).fetchone()[0]
    assert kept > 0
    assert [t for t in types if t[1].startswith("_")] == []


def test_every_mart_and_metrics_table_is_exported_as_parquet_with_a_latest_pointer(built):
    _, warehouse = built
    exports = warehouse.with_name("exports")
    with connection(warehouse.with_name("serving.duckdb"), read_only=True) as con:
        run_id = con.execute("select run_id from audit.publish_log").fetchone()[0]
        served = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('marts', 'metrics')"
        ).fetchall()
        counts = {
            f"{schema}/{name}": con.execute(f"select count(*) from {schema}.{name}").fetchone()[0]
            for schema, name in served
        }
        exported = {
            f"{path.parent.name}/{path.stem}": con.execute(
                f"select count(*) from read_parquet('{path}')"
            ).fetchone()[0]
            for path in (exports / "latest").glob("*/*.parquet")
        }
    assert (exports / "latest").resolve().name == run_id
    assert exported == counts and len(exported) > 35
