"""Grain: one row per customer with a completed purchase. Historical value (net revenue
to date) and the prediction over the horizon (var clv_horizon_months, default 12)
discounted monthly (var clv_monthly_discount_rate, default 0.01, about 12.7% a year) by
the frequency model this run's backtest selected (BG/NBD or MBG/NBD) with Gamma-Gamma,
the probability the customer is still active and the churn-risk band. Predictions are
null when the model was not fitted (see clv_model_parameters.status)."""

import numpy as np
import pandas as pd
import pyarrow as pa

from warehouse import clv
from warehouse.faults import crash_point

# The table's types, whatever the data (an empty or tiny dataset included).
SCHEMA = pa.schema(
    [
        ("customer_key", pa.string()),
        ("frequency", pa.int64()),
        ("recency", pa.float64()),
        ("customer_age", pa.float64()),
        ("monetary_value", pa.float64()),
        ("historical_clv", pa.float64()),
        ("probability_alive", pa.float64()),
        ("expected_purchases", pa.float64()),
        ("expected_average_value", pa.float64()),
        ("predicted_clv", pa.float64()),
        ("churn_risk", pa.string()),
        ("horizon_months", pa.int64()),
        ("as_of_date", pa.date32()),
    ]
)


def churn_risk(
    probability_alive: pd.Series,
    silent_days: pd.Series,
    median_gap_days: float | None,
    p90_gap_days: float | None,
) -> pd.Series:
    """The model's view and a rule on silence, whichever is worse:

    - high: P(alive) < 0.3, or silent for longer than 9 in 10 of the gaps repeat buyers
      leave between purchase days;
    - medium: P(alive) < 0.7, or silent for longer than the median gap;
    - low: otherwise; unknown when the model was not fitted.

    The rule is there because a model can see no churn at all: BG/NBD never lets a
    one-time buyer drop out, and on a short history MBG/NBD may fit a dropout rate near
    zero, so P(alive) stays near 1 for customers silent for most of a year."""
    no_gap = float("inf")
    p90 = no_gap if p90_gap_days is None or pd.isna(p90_gap_days) else p90_gap_days
    median = no_gap if median_gap_days is None or pd.isna(median_gap_days) else median_gap_days
    bands = np.select(
        [
            probability_alive.isna(),
            (probability_alive < 0.3) | (silent_days > p90),
            (probability_alive < 0.7) | (silent_days > median),
        ],
        ["unknown", "high", "medium"],
        default="low",
    )
    return pd.Series(bands, index=probability_alive.index)


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt.ref("int_clv_inputs").df().sort_values("customer_key", ignore_index=True)
    params = dbt.ref("clv_model_parameters").df()
    params = params[params["selected"]]
    gaps = dbt.ref("int_repeat_purchase_gaps").df().iloc[0]
    history = dbt.ref("int_customer_orders_aggregated").df()[["customer_key", "net_revenue"]]
    horizon = int(dbt.config.get("clv_horizon_months"))
    discount = float(dbt.config.get("clv_monthly_discount_rate"))
    unit_days = float(dbt.config.get("clv_time_unit_days"))
    unit_weeks = unit_days / 7

    out = inputs.merge(history, on="customer_key", how="left").rename(
        columns={"net_revenue": "historical_clv", "t": "customer_age"}
    )
    out["horizon_months"] = horizon
    if (params["status"] == "fitted").all():
        value = dict(zip(params["parameter"], params["value"], strict=False))
        frequency_model = next(m for m in params["model"] if m in clv.FREQUENCY_MODELS)
        bgnbd = clv.BgNbdParams(
            value["r"], value["alpha"], value["a"], value["b"], 0.0, frequency_model
        )
        gg = clv.GammaGammaParams(value["p"], value["q"], value["v"], 0.0)
        x, t_x, T, m = (
            out[c].to_numpy(dtype=float)
            for c in ("frequency", "recency", "customer_age", "monetary_value")
        )
        out["probability_alive"] = clv.probability_alive(bgnbd, x, t_x, T)
        out["expected_purchases"] = clv.expected_purchases(
            bgnbd, horizon * clv.WEEKS_PER_MONTH / unit_weeks, x, t_x, T
        )
        out["expected_average_value"] = clv.expected_average_value(gg, x, m)
        out["predicted_clv"] = clv.predicted_clv(
            bgnbd, gg, x, t_x, T, m, horizon, discount, unit_weeks
        )
    else:
        for column in (
            "probability_alive",
            "expected_purchases",
            "expected_average_value",
            "predicted_clv",
        ):
            out[column] = np.nan
    crash_point("clv.scored")  # fault tests: killed with the customers scored, not written
    # rounded so reruns are byte-identical whatever the floating-point path
    for column in (
        "probability_alive",
        "expected_purchases",
        "expected_average_value",
        "predicted_clv",
    ):
        out[column] = out[column].astype(float).round(6)
    silent_days = (out["customer_age"] - out["recency"]) * unit_days
    out["churn_risk"] = churn_risk(
        out["probability_alive"], silent_days, gaps["median_gap_days"], gaps["p90_gap_days"]
    )
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    out["historical_clv"] = out["historical_clv"].astype(float)
    return pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
