"""Grain: one row per frequency model (bg_nbd, mbg_nbd) and calibration repeat-purchase
count (0 ... 6, 7+). Every run fits each model on the histories up to the calibration end
(the as-of date minus var clv_holdout_weeks), predicts each customer's purchase days in
the holdout and sets them beside what the customers bought (purchase days after the
calibration end up to the as-of date). clv_model_parameters picks the model whose
predictions come closest (warehouse.clv.choose_model)."""

import pandas as pd
import pyarrow as pa

from warehouse import clv
from warehouse.build_settings import build_as_of_date

SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("calibration_frequency", pa.string()),
        ("calibration_end", pa.date32()),
        ("holdout_end", pa.date32()),
        ("customers", pa.int64()),
        ("actual_purchases", pa.int64()),
        ("predicted_purchases", pa.float64()),
        ("status", pa.string()),
        ("reason", pa.string()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    # a fixed row order: the optimiser's path (and so the last digits) depends on it
    inputs = dbt.ref("int_clv_backtest_inputs").df().sort_values("customer_key", ignore_index=True)
    holdout_weeks = int(dbt.config.get("clv_holdout_weeks"))
    unit_weeks = float(dbt.config.get("clv_time_unit_days")) / 7
    holdout_end = build_as_of_date(dbt.config.get("as_of_date"), session)
    calibration_end = (pd.Timestamp(holdout_end) - pd.Timedelta(weeks=holdout_weeks)).date()
    x, t_x, T, actual = (
        inputs[c].to_numpy(dtype=float) for c in ("frequency", "recency", "t", "holdout_purchases")
    )
    rows, fits = clv.backtest(x, t_x, T, actual, holdout_weeks / unit_weeks)
    out = pd.DataFrame(
        [
            {
                "model": row.model,
                "calibration_frequency": row.calibration_frequency,
                "calibration_end": calibration_end,
                "holdout_end": holdout_end,
                "customers": row.customers,
                "actual_purchases": row.actual_purchases,
                # rounded so reruns are byte-identical whatever the floating-point path
                "predicted_purchases": None
                if row.predicted_purchases is None
                else round(row.predicted_purchases, 6),
                "status": "not_fitted" if isinstance(fits[row.model], str) else "fitted",
                "reason": fits[row.model] if isinstance(fits[row.model], str) else None,
            }
            for row in rows
        ],
        columns=SCHEMA.names,
    )
    return pa.Table.from_pandas(out, schema=SCHEMA, preserve_index=False)
