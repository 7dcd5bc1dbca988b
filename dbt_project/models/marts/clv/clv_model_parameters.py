"""Grain: one row per model parameter of this run's CLV fit (BG/NBD r, alpha, a, b and
Gamma-Gamma p, q, v), with the log-likelihood, the customers it was fitted on and the
calibration end (the as-of date). When the data cannot support a fit, one row with
status `not_fitted` and the reason; predictions are then null."""

import pandas as pd
import pyarrow as pa

from warehouse import clv

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
        ("status", pa.string()),
        ("reason", pa.string()),
    ]
)


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pandas(
        pd.DataFrame(rows)[SCHEMA.names], schema=SCHEMA, preserve_index=False
    )


def model(dbt, session):
    dbt.config(materialized="table")
    # a fixed row order: the optimiser's path (and so the last digits) depends on it
    inputs = dbt.ref("int_clv_inputs").df().sort_values("customer_key", ignore_index=True)
    as_of = pd.Timestamp(dbt.config.get("as_of_date")).date()
    unit = f"{dbt.config.get('clv_time_unit_days')} days"
    base = {"time_unit": unit, "calibration_end": as_of, "customers": len(inputs)}
    reason = clv.check_fit_possible(inputs["frequency"].to_numpy())
    if reason:
        clv.warn_not_fitted(reason)
        return _table(
            [
                {
                    **base,
                    "model": "bg_nbd+gamma_gamma",
                    "parameter": None,
                    "value": None,
                    "log_likelihood": None,
                    "status": "not_fitted",
                    "reason": reason,
                }
            ]
        )
    x, t_x, T = (inputs[c].to_numpy(dtype=float) for c in ("frequency", "recency", "t"))
    bgnbd = clv.fit_bgnbd(x, t_x, T)
    gg = clv.fit_gamma_gamma(x, inputs["monetary_value"].to_numpy(dtype=float))
    rows = [
        {
            "model": "bg_nbd",
            "parameter": name,
            "value": float(getattr(bgnbd, name)),
            "log_likelihood": bgnbd.log_likelihood,
        }
        for name in ("r", "alpha", "a", "b")
    ] + [
        {
            "model": "gamma_gamma",
            "parameter": name,
            "value": float(getattr(gg, name)),
            "log_likelihood": gg.log_likelihood,
        }
        for name in ("p", "q", "v")
    ]
    return _table([{**base, **row, "status": "fitted", "reason": None} for row in rows])
