"""Runtime settings. Read lazily (at run time, never at import) from the environment.

Every variable is listed in .env.example; defaults put everything under data/ in the repo.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


class C360Settings(dg.ConfigurableResource):
    """Where the pipeline reads and writes. Empty fields fall back to C360_* variables."""

    landing_dir: str = ""
    warehouse_path: str = ""
    serving_path: str = ""
    reports_dir: str = ""
    as_of: str = ""  # YYYY-MM-DD; empty = the latest event in the data
    # skip dbt (and the gates and publish after it) when code, raw data and settings are
    # those of the build the serving database already holds; False builds anyway
    skip_unchanged: bool = True

    @property
    def data_dir(self) -> Path:
        return _env_path("C360_DATA_DIR", REPO_ROOT / "data")

    @property
    def landing(self) -> Path:
        return (
            Path(self.landing_dir)
            if self.landing_dir
            else _env_path("C360_LANDING_DIR", self.data_dir / "landing")
        )

    @property
    def warehouse(self) -> Path:
        return (
            Path(self.warehouse_path)
            if self.warehouse_path
            else _env_path("C360_WAREHOUSE_PATH", self.data_dir / "warehouse.duckdb")
        )

    @property
    def serving(self) -> Path:
        return (
            Path(self.serving_path)
            if self.serving_path
            else _env_path("C360_SERVING_PATH", self.warehouse.with_name("serving.duckdb"))
        )

    @property
    def reports(self) -> Path:
        return (
            Path(self.reports_dir)
            if self.reports_dir
            else _env_path("C360_REPORTS_DIR", self.data_dir / "reports")
        )

    @property
    def as_of_date(self) -> str:
        return self.as_of or os.environ.get("C360_AS_OF", "")

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt: paths and the as-of date travel as env vars, which keeps
        dbt's partial parsing valid between runs (vars would force a full re-parse)."""
        return {
            "C360_WAREHOUSE_PATH": str(self.warehouse),
            "C360_AS_OF": self.as_of_date,
            "DO_NOT_TRACK": "1",
        }
