"""The CLV model against the literature: the CDNOW sample of Fader, Hardie & Lee (2005),
"Counting your customers the easy way", read through the pipeline's own dbt model
(int_clv_backtest_inputs: purchase days, T to the calibration end, the 39-week holdout)
and fitted by warehouse.clv. The sample is the file `CDNOW_sample.txt` that the
`lifetimes` package ships (a dev dependency, never imported: only its data file is read).
"""

import importlib.util
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.dbt_cli import run_dbt
from warehouse import clv

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005, p. 281
CALIBRATION_END = pd.Timestamp("1997-09-30")  # 39 weeks from 1997-01-01
HOLDOUT_END = pd.Timestamp("1998-06-30")  # the next 39 weeks


def _cdnow_sample() -> pd.DataFrame:
    (package,) = importlib.util.find_spec("lifetimes").submodule_search_locations
    return pd.read_csv(
        Path(package) / "datasets" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer", "master_id", "date", "cds", "dollars"],
        dtype={"customer": str, "date": str},
    ).assign(date=lambda d: pd.to_datetime(d["date"], format="%Y%m%d"))


@pytest.fixture(scope="module")
def backtest_inputs(tmp_path_factory) -> pd.DataFrame:
    """int_clv_backtest_inputs built by dbt over the CDNOW purchase days."""
    root = tmp_path_factory.mktemp("cdnow")
    warehouse = root / "warehouse.duckdb"
    days = (
        _cdnow_sample()
        .groupby(["customer", "date"], as_index=False)["dollars"]
        .sum()
        .sort_values(["customer", "date"])
    )
    days["day_number"] = days.groupby("customer").cumcount() + 1
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_customer_purchase_days as select customer as "
            "customer_key, cast(date as date) as purchase_date, dollars as day_value, "
            "day_number from days"
        )
    dbt_vars = {
        "warehouse_path": str(warehouse),
        "as_of_date": HOLDOUT_END.date().isoformat(),
        "clv_holdout_weeks": 39,
        "save_identity_state": False,
    }
    result = run_dbt(["run", "--select", "int_clv_backtest_inputs"], dbt_vars, root / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from intermediate.int_clv_backtest_inputs").df()


def test_cdnow_fit_reproduces_the_papers_parameters(backtest_inputs):
    inputs = backtest_inputs
    assert len(inputs) == 2357  # the sample's customers, all first buying in Q1 1997
    assert str(inputs["calibration_end"].iloc[0])[:10] == "1997-09-30"
    fit = clv.fit_bgnbd(inputs["frequency"], inputs["recency"], inputs["t"])
    found = {name: getattr(fit, name) for name in PAPER}
    print(f"CDNOW BG/NBD: {found} (paper {PAPER}), log-likelihood {fit.log_likelihood:.1f}")
    for name, expected in PAPER.items():
        assert found[name] == pytest.approx(expected, rel=0.01), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=1.0)  # the paper's LL


def test_cdnow_holdout_purchases_equal_an_independent_count(backtest_inputs):
    sample = _cdnow_sample()
    in_holdout = sample[(sample["date"] > CALIBRATION_END) & (sample["date"] <= HOLDOUT_END)]
    expected = in_holdout.drop_duplicates(["customer", "date"]).groupby("customer").size()
    counted = backtest_inputs.set_index("customer_key")["holdout_purchases"]
    assert counted.sum() == expected.sum() > 1000
    assert counted[counted > 0].sort_index().equals(expected.sort_index().astype(counted.dtype))
    rows, fits = clv.backtest(
        backtest_inputs["frequency"],
        backtest_inputs["recency"],
        backtest_inputs["t"],
        backtest_inputs["holdout_purchases"],
        holdout_length=39,
    )
    totals = {model: sum(r.predicted_purchases for r in rows if r.model == model) for model in fits}
    actual = sum(r.actual_purchases for r in rows if r.model == clv.BG_NBD)
    print(f"CDNOW holdout: actual {actual}, predicted {totals}")
    assert actual == expected.sum()
    assert all(total > 0 for total in totals.values())
