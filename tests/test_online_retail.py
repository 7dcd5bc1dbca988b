"""The worked bring-your-own-data example: the real UCI Online Retail export, mapped onto the
sales contracts and run through the whole pipeline. Every figure is recomputed here with
pandas straight from the export CSV, never taken from the warehouse's own output."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingestion.mapping import apply_mapping, find_mapping, parse_mapping
from orchestration.runner import run_pipeline
from warehouse.connection import connection


def _export_dir() -> Path:
    """C360_ONLINE_RETAIL_DIR, else the workspace's shared datasets next to the checkout."""
    candidates = [
        os.environ.get("C360_ONLINE_RETAIL_DIR", ""),
        Path(__file__).resolve().parents[2] / "shared/datasets/online_retail",
        "/work/shared/datasets/online_retail",
    ]
    existing = [Path(c) for c in candidates if c and (Path(c) / "online_retail.csv.gz").exists()]
    return existing[0] if existing else Path(candidates[1])


EXPORT_DIR = _export_dir()
EXPORT = EXPORT_DIR / "online_retail.csv.gz"
pytestmark = pytest.mark.skipif(
    not EXPORT.exists(), reason="online retail dataset not found (set C360_ONLINE_RETAIL_DIR)"
)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    lines = pd.read_csv(EXPORT, dtype=str, keep_default_na=False, na_values=[""])
    lines["line_number"] = np.arange(len(lines)) + 2  # header is line 1
    lines["qty"] = lines["Quantity"].astype(int)
    lines["price"] = lines["UnitPrice"].astype(float)
    lines["ordered_at"] = pd.to_datetime(lines["InvoiceDate"])
    return lines


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    root = tmp_path_factory.mktemp("retail")
    landing = root / "landing"
    written = apply_mapping(parse_mapping(find_mapping("online_retail")), EXPORT_DIR, landing)
    warehouse = root / "warehouse.duckdb"
    assert run_pipeline(landing=landing, warehouse=warehouse)
    return landing, warehouse, written


def _accepted_lines(export: pd.DataFrame) -> pd.DataFrame:
    """What the contract should accept: no negative price, first copy of exact duplicates."""
    content = [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    valid = export[export["price"] >= 0]
    return valid[~valid.duplicated(content, keep="first")]


def test_mapping_rerun_writes_identical_files(retail, tmp_path):
    _, _, written = retail
    again = apply_mapping(parse_mapping(find_mapping("online_retail")), EXPORT_DIR, tmp_path)
    for entity, path in written.items():
        assert again[entity].read_bytes() == path.read_bytes(), entity


def test_every_export_line_is_loaded_or_quarantined_with_a_reason(retail, export):
    _, warehouse, _ = retail
    accepted = _accepted_lines(export)
    negative_price = export[export["price"] < 0]
    with connection(warehouse, read_only=True) as con:
        landed, loaded, quarantined = con.execute(
            "select rows_landed, rows_loaded, rows_quarantined from ingest.load_manifest "
            "where source = 'sales' and entity = 'order_lines'"
        ).fetchone()
        by_rule = dict(
            con.execute(
                "select rule, count(*) from ingest.quarantine where entity = 'order_lines' group by 1"
            ).fetchall()
        )
        raw_rows = con.execute("select count(*) from raw.sales__order_lines").fetchone()[0]
        price_lines = con.execute(
            "select row_number, column_name, reason from ingest.quarantine "
            "where entity = 'order_lines' and rule = 'range' order by row_number"
        ).fetchall()
    assert landed == len(export) == 541_909
    assert loaded + quarantined == landed
    assert loaded == raw_rows == len(accepted)
    assert by_rule == {
        "range": len(negative_price),
        "duplicate_key": len(export) - len(negative_price) - len(accepted),
    }
    # the quarantined line numbers are the export's own line numbers (the mapping keeps order)
    assert [line for line, _, _ in price_lines] == negative_price["line_number"].tolist()
    assert {(column, reason) for _, column, reason in price_lines} == {
        ("unit_price", "value '-11062.06' is below the minimum 0")
    }


def test_staging_figures_match_the_export(retail, export):
    _, warehouse, _ = retail
    accepted = _accepted_lines(export)
    invoices = export.groupby("InvoiceNo").agg(customer=("CustomerID", "max"))
    with connection(warehouse, read_only=True) as con:
        lines, revenue, items = con.execute(
            "select count(*), sum(line_amount)::double, sum(quantity) from staging.stg_sales__order_lines"
        ).fetchone()
        by_status = dict(
            con.execute(
                "select status, count(*) from staging.stg_sales__orders group by 1"
            ).fetchall()
        )
        anonymous = con.execute(
            "select count(*) from staging.stg_sales__orders where is_anonymous"
        ).fetchone()[0]
        customers = con.execute("select count(*) from staging.stg_sales__customers").fetchone()[0]
        net = con.execute("select sum(net_amount)::double from marts.fct_orders").fetchone()[0]
        refund = con.execute(
            "select sum(refund_amount)::double from marts.fct_orders where status = 'refunded'"
        ).fetchone()[0]
    assert lines == len(accepted)
    assert revenue == pytest.approx((accepted["qty"] * accepted["price"]).sum(), abs=0.01)
    assert items == accepted["qty"].sum()
    credit_notes = invoices.index.str.startswith("C")
    assert by_status == {
        "completed": int((~credit_notes).sum()),
        "refunded": int(credit_notes.sum()),
    }
    assert anonymous == int(invoices["customer"].isna().sum())
    assert customers == export["CustomerID"].nunique()
    # credit notes net against revenue: total net = the sum of every accepted line
    assert net == pytest.approx((accepted["qty"] * accepted["price"]).sum(), abs=0.01)
    credit = accepted[accepted["InvoiceNo"].str.startswith("C")]
    assert refund == pytest.approx(-(credit["qty"] * credit["price"]).sum(), abs=0.01)


def _completed_invoices(export: pd.DataFrame) -> pd.DataFrame:
    """Completed orders of known customers: invoices that are not credit notes."""
    known = export[export["CustomerID"].notna() & ~export["InvoiceNo"].str.startswith("C")]
    return known.groupby("InvoiceNo").agg(customer=("CustomerID", "max"), at=("ordered_at", "min"))


def test_repeat_purchase_rate_and_first_cohort_match_the_export(retail, export):
    _, warehouse, _ = retail
    invoices = _completed_invoices(export)
    per_customer = invoices.groupby("customer").size()
    expected_rate = (per_customer >= 2).sum() / len(per_customer)
    invoices["month"] = invoices["at"].dt.to_period("M")
    first = invoices.groupby("customer")["month"].min()
    cohort_month = first.min()
    cohort = set(first[first == cohort_month].index)
    months = (invoices["month"].max() - cohort_month).n + 1
    expected_active = [
        invoices[(invoices["month"] == cohort_month + k) & invoices["customer"].isin(cohort)][
            "customer"
        ].nunique()
        for k in range(months)
    ]
    with connection(warehouse, read_only=True) as con:
        rate = con.execute(
            "select repeat_purchase_rate from marts.fct_repeat_purchase_rate where cohort = 'all'"
        ).fetchone()[0]
        rows = con.execute(
            "select cohort_customers, active_customers, retention_share from marts.fct_retention_cohorts "
            "where cohort_month = ? order by months_since_first_purchase",
            [cohort_month.to_timestamp().date()],
        ).fetchall()
    print(
        f"online retail: repeat purchase rate {rate:.4f}; first cohort {cohort_month} of {len(cohort)}"
    )
    assert rate == pytest.approx(expected_rate)
    assert [r[0] for r in rows] == [len(cohort)] * months
    assert [r[1] for r in rows] == expected_active
    assert [r[2] for r in rows] == pytest.approx([a / len(cohort) for a in expected_active])


def test_churn_risk_puts_long_silent_one_time_buyers_in_the_high_band(retail, export):
    """On a year of real data both BG/NBD and MBG/NBD fit almost no dropout, so P(alive)
    alone calls every silent one-time buyer safe; the silence rule must not. Expected
    bands are recomputed from the export: the 90th percentile of the gaps between a
    customer's consecutive invoice days, and each one-time buyer's days since buying."""
    _, warehouse, _ = retail
    invoices = _completed_invoices(export)
    days = invoices.assign(day=invoices["at"].dt.normalize()).drop_duplicates(["customer", "day"])
    days = days.sort_values(["customer", "day"])
    gaps = days.groupby("customer")["day"].diff().dt.days.dropna()
    p90 = gaps.quantile(0.9)  # linear interpolation, as quantile_cont
    as_of = export["ordered_at"].max().normalize()
    per_customer = days.groupby("customer").agg(purchase_days=("day", "size"), last=("day", "max"))
    silent = (as_of - per_customer["last"]).dt.days
    one_time = per_customer["purchase_days"] == 1
    with connection(warehouse, read_only=True) as con:
        bands = (
            con.execute(
                "select m.record_id as customer, c.churn_risk from marts.fct_customer_clv c "
                "join marts.customer_identity_map m using (customer_key) "
                "where m.record_source = 'sales_customer'"
            )
            .df()
            .set_index("customer")["churn_risk"]
        )
        gap_p90 = con.execute(
            "select p90_gap_days from intermediate.int_repeat_purchase_gaps"
        ).fetchone()[0]
    assert gap_p90 == pytest.approx(p90)
    long_silent = silent[one_time & (silent > 180)].index
    beyond_p90 = silent[one_time & (silent > p90)].index
    print(
        f"online retail: p90 gap {p90:.0f} days; one-time buyers silent > 180 days "
        f"{len(long_silent)}, high {(bands[long_silent] == 'high').mean():.1%}"
    )
    assert len(long_silent) > 300
    assert (bands[beyond_p90] == "high").all()
    assert (bands[long_silent] == "high").mean() > 0.5
