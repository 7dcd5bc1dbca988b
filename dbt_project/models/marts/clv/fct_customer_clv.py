"""Grain: one row per customer with a completed purchase. Historical value (net revenue
to date) and the BG/NBD + Gamma-Gamma prediction over the horizon (var
clv_horizon_months, default 12) discounted monthly (var clv_monthly_discount_rate,
default 0.01, about 12.7% a year), with the probability the customer is still active
and the churn-risk band derived from it. Predictions are null when the model was not
fitted (see clv_model_parameters.status)."""

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


def churn_risk(probability_alive: pd.Series) -> pd.Series:
    """Bands on P(alive): low >= 0.7 > medium >= 0.3 > high; unknown when not predicted."""
    bands = np.select(
        [probability_alive >= 0.7, probability_alive >= 0.3, probability_alive < 0.3],
        ["low", "medium", "high"],
        default="unknown",
    )
    return pd.Series(bands, index=probability_alive.index)


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt.ref("int_clv_inputs").df().sort_values("customer_key", ignore_index=True)
    params = dbt.ref("clv_model_parameters").df()
    history = dbt.ref("int_customer_orders_aggregated").df()[["customer_key", "net_revenue"]]
    horizon = int(dbt.config.get("clv_horizon_months"))
    discount = float(dbt.config.get("clv_monthly_discount_rate"))
    unit_weeks = float(dbt.config.get("clv_time_unit_days")) / 7

    out = inputs.merge(history, on="customer_key", how="left").rename(
        columns={"net_revenue": "historical_clv", "t": "customer_age"}
    )
    out["horizon_months"] = horizon
    if (params["status"] == "fitted").all():
        value = dict(zip(params["parameter"], params["value"], strict=False))
        bgnbd = clv.BgNbdParams(value["r"], value["alpha"], value["a"], value["b"], 0.0)
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
    out["churn_risk"] = churn_risk(out["probability_alive"])
    out["as_of_date"] = pd.to_datetime(out["as_of_date"]).dt.date
    out["historical_clv"] = out["historical_clv"].astype(float)
    return pa.Table.from_pandas(out[SCHEMA.names], schema=SCHEMA, preserve_index=False)
