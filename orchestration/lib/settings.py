"""Run settings: resolved once per run, validated, and handed down as values.

Dagster sees one resource, ``C360Settings``, whose fields a run can set; an empty field
falls back to its ``C360_*`` environment variable (listed in .env.example), read when the
run resolves its settings, never at import. Nothing here or downstream writes the process
environment: dbt gets the settings as that one invocation's ``--vars``, so one run's
settings can never leak into the next run in the same process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from ingestion.as_of import latest_event_date
from ingestion.contract_sql import EventWindow
from orchestration.lib.run_lock import WriterLock
from orchestration.lib.run_logging import NOTICE_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the setting and the value."""


def parse_as_of(value: str | None, name: str = "as_of") -> date | None:
    """``YYYY-MM-DD`` -> date; empty -> None (the latest event in the data).

    A malformed date is an error naming the setting, never silently the latest date.
    """
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise SettingsError(f"{name} must be a date as YYYY-MM-DD, got {value!r} ({exc})") from exc


@dataclass(frozen=True)
class RunSettings:
    """Where one run reads and writes, and as of when. Immutable: resolved once per run."""

    landing: Path
    warehouse: Path
    serving: Path
    reports: Path
    as_of: date | None  # pinned by the caller; None = the latest event in the data
    skip_unchanged: bool = True
    # rebuild every dbt model from raw, the incremental ones included
    full_refresh: bool = False
    # how long a run waits for another run writing the same warehouse before refusing
    lock_wait_seconds: float = 30.0
    # the Dagster instance the CLI and `make dagster` share
    dagster_home: Path | None = None
    # the landing sensor takes a file once it is this old and its size stopped changing
    sensor_settle_seconds: float = 60.0
    # failed runs are also POSTed here as JSON when set
    alert_webhook_url: str = ""
    # emails and phones in the serving database: "hashed" (salted) or "clear"
    serving_personal_data: str = "hashed"
    # also publish the serving tables to this PostgreSQL database (libpq URL or key=value)
    postgres_dsn: str = ""
    # event times outside this window are quarantined (ingestion.contract_sql.EventWindow)
    event_window: EventWindow = EventWindow()
    # the CLV backtest fits on everything up to as-of minus this many weeks, predicts them
    clv_holdout_weeks: int = 26
    # the optional probabilistic identity layer (Splink) and the probability it links at
    probabilistic_matching: bool = False
    match_probability: float = 0.99
    # Parquet export folders kept (the newest publishes'; older ones removed at publish)
    exports_keep: int = 3

    @property
    def exports(self) -> Path:
        """Parquet exports of the published marts: beside the reports folder
        (reports -> exports, X.reports -> X.exports)."""
        return self.reports.with_name(self.reports.name.replace("reports", "exports", 1))

    @property
    def alerts_file(self) -> Path:
        return self.reports / "alerts.jsonl"

    def dbt_vars(self, as_of_date: date | None) -> dict[str, object]:
        """What the dbt project reads (``var(...)``): the file it builds, the as-of date this
        run resolved, and whether the run may rewrite the identity state. A pinned as-of run
        looks into the past, so it reads the remembered customer keys but never saves them.

        Without ``as_of_date`` the vars stay the same from one daily run to the next, so dbt
        reuses its parsed project; the build then reads the date from the warehouse
        (``ops.build_as_of``, written by ``build_state.record_build_as_of``)."""
        return {
            "warehouse_path": str(self.warehouse),
            **({"as_of_date": as_of_date.isoformat()} if as_of_date else {}),
            "save_identity_state": self.as_of is None,
            "clv_holdout_weeks": self.clv_holdout_weeks,
            "probabilistic_matching": self.probabilistic_matching,
            "match_probability_threshold": self.match_probability,
        }


def _path(value: str, environ: Mapping[str, str], variable: str, default: Path) -> Path:
    chosen = value or environ.get(variable, "")
    return Path(chosen).expanduser().resolve() if chosen else default


def resolve_settings(
    landing_dir: str = "",
    warehouse_path: str = "",
    serving_path: str = "",
    reports_dir: str = "",
    as_of: str = "",
    skip_unchanged: bool = True,
    lock_wait_seconds: float | None = None,
    full_refresh: bool = False,
    environ: Mapping[str, str] | None = None,
) -> RunSettings:
    """Explicit values first, then ``C360_*`` variables, then defaults under ``data/``.

    The serving database and the reports folder follow the warehouse when not set, so
    two warehouses never publish over each other.
    """
    env = os.environ if environ is None else environ
    data_dir = _path("", env, "C360_DATA_DIR", REPO_ROOT / "data")
    warehouse = _path(warehouse_path, env, "C360_WAREHOUSE_PATH", data_dir / "warehouse.duckdb")
    # warehouse.duckdb -> serving.duckdb and reports/ beside it; X.duckdb -> X.serving.duckdb
    # and X.reports/, so a second warehouse in the same folder publishes its own files
    plain = warehouse.stem == "warehouse"
    default_serving = warehouse.with_name(
        "serving.duckdb" if plain else f"{warehouse.stem}.serving.duckdb"
    )
    default_reports = warehouse.with_name("reports" if plain else f"{warehouse.stem}.reports")
    return RunSettings(
        landing=_path(landing_dir, env, "C360_LANDING_DIR", data_dir / "landing"),
        warehouse=warehouse,
        serving=_path(serving_path, env, "C360_SERVING_PATH", default_serving),
        reports=_path(reports_dir, env, "C360_REPORTS_DIR", default_reports),
        as_of=parse_as_of(as_of or env.get("C360_AS_OF", ""), "as_of" if as_of else "C360_AS_OF"),
        skip_unchanged=skip_unchanged and not full_refresh,
        full_refresh=full_refresh,
        lock_wait_seconds=_seconds(lock_wait_seconds, env, "C360_LOCK_WAIT_SECONDS", 30.0),
        dagster_home=_path("", env, "DAGSTER_HOME", data_dir / "dagster"),
        sensor_settle_seconds=_seconds(None, env, "C360_SENSOR_SETTLE_SECONDS", 60.0),
        alert_webhook_url=env.get("C360_ALERT_WEBHOOK_URL", "").strip(),
        postgres_dsn=env.get("C360_POSTGRES_DSN", "").strip(),
        serving_personal_data=_choice(
            env, "C360_SERVING_PERSONAL_DATA", ("hashed", "clear"), "hashed"
        ),
        event_window=EventWindow(
            earliest=parse_as_of(
                env.get("C360_EARLIEST_EVENT_DATE", ""), "C360_EARLIEST_EVENT_DATE"
            )
            or EventWindow().earliest,
            future_days=int(_seconds(None, env, "C360_FUTURE_TOLERANCE_DAYS", 2.0)),
        ),
        clv_holdout_weeks=_count(env, "C360_CLV_HOLDOUT_WEEKS", 26, unit="weeks"),
        probabilistic_matching=_choice(env, "C360_PROBABILISTIC_MATCHING", ("off", "on"), "off")
        == "on",
        match_probability=_probability(env, "C360_MATCH_PROBABILITY", 0.99),
        exports_keep=_count(env, "C360_EXPORTS_KEEP", 3),
    )


def _probability(environ: Mapping[str, str], variable: str, default: float) -> float:
    text = environ.get(variable, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise SettingsError(f"{variable} must be a probability between 0 and 1, got {text!r}")
    return value


def _count(environ: Mapping[str, str], variable: str, default: int, unit: str = "") -> int:
    """A whole number of 1 or more (``unit`` names what is counted in the message)."""
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        what = f"a whole number of {unit}" if unit else "a whole number"
        raise SettingsError(f"{variable} must be {what} (1 or more), got {text!r}")
    return int(text)


def _choice(
    environ: Mapping[str, str], variable: str, allowed: tuple[str, ...], default: str
) -> str:
    value = environ.get(variable, "").strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{variable} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _seconds(
    value: float | None, environ: Mapping[str, str], variable: str, default: float
) -> float:
    if value is not None and value >= 0:
        return float(value)
    text = environ.get(variable, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError as exc:
        raise SettingsError(f"{variable} must be a number of seconds, got {text!r}") from exc
    if seconds < 0:
        raise SettingsError(f"{variable} must not be negative, got {text!r}")
    return seconds


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
    # seconds to wait for another run writing the same warehouse; negative = C360_LOCK_WAIT_SECONDS
    lock_wait_seconds: float = -1.0
    # rebuild every dbt model from raw (dbt --full-refresh), incremental models included
    full_refresh: bool = False

    _lock: WriterLock | None = PrivateAttr(default=None)

    def resolve(self) -> RunSettings:
        return resolve_settings(
            self.landing_dir,
            self.warehouse_path,
            self.serving_path,
            self.reports_dir,
            self.as_of,
            self.skip_unchanged,
            self.lock_wait_seconds,
            self.full_refresh,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run takes the warehouse's writer lock before its first step and keeps it to
        its end, so a second run waits (bounded) or is refused by name, never mid-run."""
        settings = self.resolve()
        self._lock = WriterLock(settings.warehouse)
        self._lock.acquire(
            context.run_id or "unknown",
            settings.lock_wait_seconds,
            on_wait=lambda holder: context.log.warning(
                f"{NOTICE_PREFIX}another run ({holder}) is writing {settings.warehouse}: "
                f"waiting up to {settings.lock_wait_seconds:g} s for it to end"
            ),
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def as_of_date_for_run(settings: RunSettings, con: duckdb.DuckDBPyConnection) -> date:
    """The run's as-of date: the pinned one, else the latest event in raw, else today
    (an empty warehouse has no events; its marts are empty whatever the date)."""
    return settings.as_of or latest_event_date(con) or datetime.now(UTC).date()
