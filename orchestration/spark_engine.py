"""The Spark engine: the same dbt project built on Apache Spark from the same landing folder
(``c360 run --engine spark``), for data that outgrows one machine.

1. Ingestion is the one the DuckDB engine runs: every file checked against its contract,
   bad rows quarantined, the manifest kept, all in the DuckDB warehouse. The rows that
   passed are then written as Parquet, one dataset per contract and one partition per
   load (``ingestion.parquet_export``): Spark's sources.
2. dbt builds the project with the ``spark`` target of ``dbt_project/profiles.yml``
   (dbt-spark, ``method: session``: a local Spark inside this process). The models are
   the DuckDB engine's; where the engines differ, a macro has a ``spark__`` version.
   The Python functions the SQL calls (phone parsing, sentiment) are registered on the
   session as Spark UDFs before dbt starts, so dbt must run in this process.

Everything Spark writes is under ``<folder of the warehouse>/spark/`` (``data/spark`` by
default): ``raw/`` (the Parquet sources), ``warehouse/`` (Spark's tables) and
``metastore/`` (a local Derby catalogue: one process at a time).
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.loader import load_landing
from ingestion.parquet_export import export_raw_loads
from orchestration.lib.settings import REPO_ROOT, RunSettings, as_of_date_for_run
from warehouse.connection import connection

DBT_PROJECT = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class SparkPaths:
    root: Path

    @classmethod
    def beside(cls, warehouse: Path) -> SparkPaths:
        return cls(warehouse.parent / "spark")

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def metastore(self) -> Path:
        return self.root / "metastore"


@dataclass(frozen=True)
class Ingested:
    as_of: date
    newest_load_id: int


def ingest_for_spark(settings: RunSettings, paths: SparkPaths) -> Ingested:
    """Contract-checked ingestion into the DuckDB warehouse, then the new loads as Parquet."""
    with connection(settings.warehouse) as con:
        load_landing(con, settings.landing, str(uuid.uuid4()), window=settings.event_window)
        export_raw_loads(con, paths.raw)
        (newest,) = con.execute(
            "select coalesce(max(load_id), -1) from ingest.load_manifest"
        ).fetchone()
        return Ingested(as_of_date_for_run(settings, con), int(newest))


def spark_session(paths: SparkPaths):
    """The local Spark session dbt-spark will find (``getOrCreate``), with the Python
    functions the models call registered on it."""
    from pyspark.sql import SparkSession

    from warehouse.udfs import register_spark_udfs

    # Spark's Python workers (the UDFs) run this interpreter, with its packages
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    paths.root.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(f"local[{os.environ.get('C360_SPARK_CORES', '2')}]")
        .appName("c360")
        .config("spark.driver.memory", os.environ.get("C360_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.warehouse.dir", str(paths.warehouse))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={paths.metastore};create=true",
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parser.escapedStringLiterals", "true")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # progress bars garble the CLI's log
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={paths.root}")
        .enableHiveSupport()
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    register_spark_udfs(session)
    return session


def dbt_on_spark(args: list[str], vars_: dict[str, object]):
    """``dbt <args> --target spark`` in this process (see the module docstring)."""
    import json

    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target",
            "spark",
            "--target-path",
            str(DBT_PROJECT / "target" / "spark"),
            "--vars",
            json.dumps(vars_),
        ]
    )


def spark_vars(settings: RunSettings, paths: SparkPaths, ingested: Ingested) -> dict[str, object]:
    return {
        **settings.dbt_vars(ingested.as_of),
        "newest_load_id": ingested.newest_load_id,
        "spark_raw_dir": str(paths.raw),
        "spark_warehouse_dir": str(paths.warehouse),
        "spark_metastore_dir": str(paths.metastore),
    }


# ------------------------------------------------------------------ dbt Python models
# dbt-spark runs Python models only on Databricks. Here they run in this process, on
# pandas, exactly as on DuckDB: their inputs are small once grouped (one row per customer
# or per purchase day), so the driver holds them where the DuckDB engine's process did.
# The project is built in waves: the SQL models a Python model needs, then that model,
# then the SQL models that need it.


class _Config:
    def __init__(self, values: dict[str, object]):
        self._values = values

    def __call__(self, **_: object) -> None:  # dbt.config(materialized=...): nothing to do
        return None

    def get(self, key: str, default: object = None) -> object:
        return self._values.get(key, default)


class _Frame:
    """What ``dbt.ref(...)`` gives a model on DuckDB: something with ``.df()``."""

    def __init__(self, frame):
        self._frame = frame

    def df(self):
        return spark_to_pandas(self._frame)


class _DbtForPython:
    def __init__(self, session, manifest, node):
        self._session, self._manifest = session, manifest
        self.config = _Config(node.config.to_dict())

    def ref(self, name: str) -> _Frame:
        node = next(
            n
            for n in self._manifest.nodes.values()
            if n.resource_type == "model" and n.name == name
        )
        return _Frame(self._session.table(f"{node.schema}.{node.alias}"))


def spark_to_pandas(frame):
    """A Spark DataFrame as DuckDB's ``.df()`` would give it: decimals as float64 and
    dates as datetime64, so the Python models see the same types on both engines."""
    import pandas as pd
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, DecimalType

    casts = [
        F.col(field.name).cast("double").alias(field.name)
        if isinstance(field.dataType, DecimalType)
        else F.col(field.name)
        for field in frame.schema.fields
    ]
    out = frame.select(*casts).toPandas()
    for field in frame.schema.fields:
        if isinstance(field.dataType, DateType):
            out[field.name] = pd.to_datetime(out[field.name])
    return out


def run_python_model(session, manifest, node) -> None:
    """The model's ``model(dbt, session)`` on pandas, its table written to Spark."""
    import importlib.util

    path = DBT_PROJECT / node.original_file_path
    spec = importlib.util.spec_from_file_location(f"c360_dbt_{node.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.model(_DbtForPython(session, manifest, node), session)
    session.sql(f"create database if not exists {node.schema}")
    session.createDataFrame(table).write.mode("overwrite").format("parquet").saveAsTable(
        f"{node.schema}.{node.alias}"
    )


def build_waves(manifest) -> list[tuple[list[str], list]]:
    """The models in waves: (SQL model names, then the Python model nodes that need them).
    A model's wave is the number of Python models on its longest path from the sources."""
    models = {uid: node for uid, node in manifest.nodes.items() if node.resource_type == "model"}
    depth: dict[str, int] = {}

    def depth_of(uid: str) -> int:
        if uid not in depth:
            parents = [p for p in models[uid].depends_on.nodes if p in models]
            depth[uid] = max(
                (depth_of(p) + (models[p].language == "python") for p in parents), default=0
            )
        return depth[uid]

    for uid in models:
        depth_of(uid)
    waves = []
    for level in range(max(depth.values(), default=0) + 1):
        sql = sorted(
            models[u].name for u in models if depth[u] == level and models[u].language == "sql"
        )
        python = [models[u] for u in models if depth[u] == level and models[u].language == "python"]
        waves.append((sql, python))
    return waves


# ------------------------------------------------------------------ publish
class SparkBuildFailed(RuntimeError):
    pass


def publish_marts(session, manifest, paths: SparkPaths, run_id: str) -> list[str]:
    """Every mart as a Parquet dataset under ``<spark>/marts/<mart>/``, validated first.

    The marts are written to ``marts.publishing/``, copied into a DuckDB file there and
    validated by the same GX mart suites as the DuckDB engine's; only when every blocking
    suite passes does the folder replace ``marts/`` (a rename: readers see the old set or
    the new, never a mix). A failure leaves the previous published marts in place."""
    import shutil

    from quality.runner import run_suites_isolated
    from quality.suites import ERROR, mart_suites

    marts = sorted(
        (node.alias, f"{node.schema}.{node.alias}")
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.schema == "marts"
    )
    staging = paths.root / "marts.publishing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name, table in marts:
        session.table(table).write.mode("overwrite").parquet(str(staging / name))
    gate = staging / "_quality_gate.duckdb"
    with connection(gate) as con:
        con.execute("create schema if not exists marts")
        for name, _ in marts:
            con.execute(
                f"create table marts.{name} as select * from read_parquet('{staging / name}/*.parquet')"
            )
    outcomes = run_suites_isolated(gate, mart_suites(), run_id, None)
    failed = [o for o in outcomes if o.suite.severity == ERROR and not o.success]
    if failed:
        raise SparkBuildFailed(
            "not published: the quality gate failed on "
            + ", ".join(f"{o.suite.name} ({len(o.failures)} expectations)" for o in failed)
            + f"; {paths.root / 'marts'} still holds the previous build"
        )
    for extra in staging.glob("_quality_gate.duckdb*"):
        extra.unlink()
    previous = paths.root / "marts.previous"
    shutil.rmtree(previous, ignore_errors=True)
    if (paths.root / "marts").exists():
        os.replace(paths.root / "marts", previous)
    os.replace(staging, paths.root / "marts")
    shutil.rmtree(previous, ignore_errors=True)
    return [name for name, _ in marts]


# ------------------------------------------------------------------ the run
@dataclass(frozen=True)
class SparkRun:
    as_of: date
    marts: list[str]
    seconds: dict[str, float]


def run_on_spark(settings: RunSettings) -> SparkRun:
    """``c360 run --engine spark``: ingest, build on Spark, validate, publish Parquet."""
    import time

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    paths = SparkPaths.beside(settings.warehouse)
    ingested = ingest_for_spark(settings, paths)
    seconds["ingestion"] = time.perf_counter() - started
    session = spark_session(paths)
    seconds["spark start"] = time.perf_counter() - started - sum(seconds.values())
    vars_ = spark_vars(settings, paths, ingested)
    parsed = dbt_on_spark(["parse"], vars_)
    if not parsed.success:
        raise SparkBuildFailed(f"dbt parse failed: {parsed.exception}")
    manifest = parsed.result
    for sql_models, python_models in build_waves(manifest):
        if sql_models:
            result = dbt_on_spark(["run", "--select", *sql_models], vars_)
            if not result.success:
                failed = [r.node.name for r in (result.result or []) if str(r.status) == "error"]
                raise SparkBuildFailed(
                    f"dbt on Spark failed: {', '.join(failed) or result.exception}"
                )
        for node in python_models:
            run_python_model(session, manifest, node)
    seconds["dbt on spark"] = time.perf_counter() - started - sum(seconds.values())
    marts = publish_marts(session, manifest, paths, f"spark-{uuid.uuid4()}")
    seconds["quality gate and publish"] = time.perf_counter() - started - sum(seconds.values())
    return SparkRun(ingested.as_of, marts, seconds)
