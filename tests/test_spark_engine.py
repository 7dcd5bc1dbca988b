"""The Spark engine builds the same marts as DuckDB from the same landing files.

A real ``c360 run --engine spark`` (a local Spark session in the process, dbt-spark, the
Python models in the driver, the GX mart gate, Parquet published) on the demo data the
DuckDB build of this worker used; every published mart is then read back with DuckDB's
own Parquet reader and compared, table by table and row by row, with the DuckDB build.
Every model runs on Spark here, so a model change that Spark SQL cannot run fails this
test.

Tolerances: exact for every key, text, count, date and flag. Money and shares agree to
1e-9 (relative). A figure rounded to 4 places may differ in the last place (an average
of money is a decimal on Spark and a double on DuckDB; a value on the rounding edge goes
either way). CLV: Spark's average of a decimal keeps 8 decimals where DuckDB's is
a double, so the Gamma-Gamma fit starts from inputs that differ in the 9th digit and its
flat likelihood lands within 0.1% (relative) of DuckDB's parameters: the fitted values
and every prediction made with them are compared at 1e-3.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warehouse.connection import connection

C360 = str(Path(sys.executable).with_name("c360"))

CLV_FITTED = {
    "value",
    "log_likelihood",
    "predicted_clv",
    "expected_average_value",
    "expected_purchases",
    "probability_alive",
    "predicted_purchases",
}
CORE_MARTS = {
    "dim_customer_360",
    "customer_identity_map",
    "fct_orders",
    "fct_customer_lifecycle_history",
    "fct_retention_cohorts",
    "fct_customer_rfm",
    "clv_model_parameters",
}


@pytest.fixture(scope="module")
def spark_build(demo_build, tmp_path_factory):
    landing, reference = demo_build
    warehouse = tmp_path_factory.mktemp("spark") / "warehouse.duckdb"
    run = subprocess.run(
        [
            C360,
            "run",
            "--engine",
            "spark",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
        ],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return reference, warehouse.parent / "spark" / "marts", run.stdout


def _duckdb_marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    with connection(warehouse, read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {name: con.execute(f"select * from marts.{name}").df() for name in names}


def _published(folder: Path, name: str) -> pd.DataFrame:
    with connection(":memory:") as con:
        return con.execute(f"select * from read_parquet('{folder / name}/*.parquet')").df()


def _rounded_to_4_places(values: pd.Series) -> bool:
    known = values.dropna().astype(float)
    return bool(len(known)) and bool(np.allclose(known, known.round(4), rtol=0, atol=1e-9))


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order: by every non-float column, then the floats at 3 digits."""
    out = frame.copy()
    floats = [c for c in out.columns if pd.api.types.is_float_dtype(out[c])]
    keys = [c for c in out.columns if c not in floats]
    for column in keys:
        out[column] = out[column].astype("string")
    rounded = [f"_{c}" for c in floats]
    for column in floats:
        out[f"_{column}"] = out[column].round(3)
    out = out.sort_values(keys + rounded, ignore_index=True, na_position="first")
    return out.drop(columns=rounded)


def _differences(duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    if list(duck.columns) != list(spark.columns):
        return [f"columns {list(duck.columns)} != {list(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"{len(duck)} rows on DuckDB, {len(spark)} on Spark"]
    duck, spark = _canonical(duck), _canonical(spark)
    problems = []
    for column in duck.columns:
        left, right = duck[column], spark[column]
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            rtol, atol = 1e-9, 0.0
            if column in CLV_FITTED:
                rtol = 1e-3
            if _rounded_to_4_places(left):
                atol = 1.5e-4
            same = np.isclose(
                left.astype(float), right.astype(float), rtol=rtol, atol=atol, equal_nan=True
            )
        else:
            same = (left.fillna("<null>") == right.fillna("<null>")).to_numpy()
        if not same.all():
            first = int(np.flatnonzero(~same)[0])
            problems.append(
                f"{column}: {int((~same).sum())} rows differ, e.g. {left.iloc[first]!r} "
                f"(DuckDB) != {right.iloc[first]!r} (Spark)"
            )
    return problems


def test_the_spark_build_publishes_every_mart_equal_to_the_duckdb_build(spark_build):
    reference, published, _ = spark_build
    duck = _duckdb_marts(reference)
    assert set(duck) >= CORE_MARTS
    assert sorted(p.name for p in published.iterdir()) == sorted(duck)
    differences = {}
    for name, frame in duck.items():
        problems = _differences(frame, _published(published, name))
        if problems:
            differences[name] = problems
    if differences:
        pytest.fail(
            "\n".join(f"{name}: {problem}" for name, ps in differences.items() for problem in ps)
        )
    # not trivially equal: the demo data fills the core marts
    for name in CORE_MARTS:
        assert len(duck[name]) > 0, name


def test_the_spark_run_reports_its_steps(spark_build):
    _, published, stdout = spark_build
    for step in ("ingestion", "spark start", "dbt on spark", "quality gate and publish"):
        assert f"{step}:" in stdout
    assert f"Published {len(list(published.iterdir()))} marts" in stdout
