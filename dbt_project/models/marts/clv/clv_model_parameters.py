"""Grain: one row per model parameter of this run's CLV fits (BG/NBD and MBG/NBD r, alpha,
a, b; Gamma-Gamma p, q, v), with the log-likelihood, the customers fitted on, the
calibration end (the as-of date) and whether the model is the one used for predictions
(`selected`: the frequency model with the smallest error in this run's backtest,
fct_clv_backtest, and Gamma-Gamma). When the data cannot support a fit, one row with
status `not_fitted` and the reason; predictions are then null."""

import pandas as pd
import pyarrow as pa

from warehouse import clv
from warehouse.build_settings import build_as_of_date

# The table's types, whatever the data: a not-fitted run (all-null columns) must not turn
# `value` or `reason` into INTEGER (a later test, or a BI tool, would trip on it).
SCHEMA = pa.schema(
    [
        ("time_unit", pa.string()),
        ("calibration_end", pa.date32()),
        ("customers", pa.int64()),
        ("model", pa.string()),
        ("parameter", pa.string()),
        ("value", pa.float64()),
        ("log_likelihood", pa.float64()),
        ("selected", pa.bool_()),
        ("status", pa.string()),
        ("reason", pa.string()),
    ]
)


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pandas(
        pd.DataFrame(rows, columns=SCHEMA.names), schema=SCHEMA, preserve_index=False
    )


def _backtest_rows(backtest: pd.DataFrame) -> list[clv.BacktestRow]:
    return [
        clv.BacktestRow(
            model=r.model,
            calibration_frequency=r.calibration_frequency,
            customers=int(r.customers),
            actual_purchases=int(r.actual_purchases),
            predicted_purchases=None if pd.isna(r.predicted_purchases) else r.predicted_purchases,
        )
        for r in backtest.itertuples()
    ]


def model(dbt, session):
    dbt.config(materialized="table")
    # a fixed row order: the optimiser's path (and so the last digits) depends on it
    inputs = dbt.ref("int_clv_inputs").df().sort_values("customer_key", ignore_index=True)
    chosen = clv.choose_model(_backtest_rows(dbt.ref("fct_clv_backtest").df()))
    as_of = build_as_of_date(dbt.config.get("as_of_date"), session)
    unit = f"{dbt.config.get('clv_time_unit_days')} days"
    base = {"time_unit": unit, "calibration_end": as_of, "customers": len(inputs)}
    x, t_x, T, monetary = (
        inputs[c].to_numpy(dtype=float) for c in ("frequency", "recency", "t", "monetary_value")
    )
    fitted = clv.fit_models(
        x,
        t_x,
        T,
        monetary,
        chosen,
        horizon_months=int(dbt.config.get("clv_horizon_months")),
        monthly_discount_rate=float(dbt.config.get("clv_monthly_discount_rate")),
        time_unit_weeks=float(dbt.config.get("clv_time_unit_days")) / 7,
    )
    if isinstance(fitted, str):
        return _not_fitted(base, chosen, fitted)
    rows = [
        {
            "model": frequency_model,
            "parameter": name,
            "value": float(getattr(params, name)),
            "log_likelihood": params.log_likelihood,
            "selected": frequency_model == chosen,
        }
        for frequency_model, params in fitted.frequency.items()
        for name in clv.BGNBD_PARAMS
    ]
    rows += [
        {
            "model": "gamma_gamma",
            "parameter": name,
            "value": float(getattr(fitted.spend, name)),
            "log_likelihood": fitted.spend.log_likelihood,
            "selected": True,
        }
        for name in clv.GG_PARAMS
    ]
    return _table([{**base, **row, "status": "fitted", "reason": None} for row in rows])


def _not_fitted(base: dict, chosen: str, reason: str) -> pa.Table:
    """One row saying why: the run builds and publishes, predictions are null."""
    clv.warn_not_fitted(reason)
    row = dict.fromkeys(SCHEMA.names) | base
    row |= {"model": f"{chosen}+gamma_gamma", "selected": True, "status": "not_fitted"}
    return _table([row | {"reason": reason}])
