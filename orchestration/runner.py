"""Run ``c360_build_job`` in this process: what the CLI, the benchmark and the tests call.

The run's settings are passed to the job as resource config, never through the process
environment, so consecutive runs in one process cannot see each other's settings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.jobs import BUILD_JOB
from orchestration.lib.alerts import failure_alert, write_alert
from orchestration.lib.dead_runs import close_dead_runs, run_tags
from orchestration.lib.instance import open_instance
from orchestration.lib.run_logging import close_run_log, root_message
from orchestration.lib.settings import RunSettings, resolve_settings

SERVING_ASSET = dg.AssetKey(["serving", "warehouse"])


@dataclass(frozen=True)
class RunOutcome:
    """What a run did, for callers that print or assert it."""

    result: dg.ExecuteInProcessResult
    settings: RunSettings

    @property
    def success(self) -> bool:
        return self.result.success

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def materialized(self) -> set[dg.AssetKey]:
        return {
            event.asset_key
            for event in self.result.get_asset_materialization_events()
            if event.asset_key is not None
        }

    @property
    def published(self) -> bool:
        return SERVING_ASSET in self.materialized

    @property
    def failures(self) -> list[str]:
        """Each failed step (or the run itself) with its error's first line."""
        found = []
        for event in self.result.all_events:
            if event.event_type_value not in (
                "STEP_FAILURE",
                "RUN_FAILURE",
                "RESOURCE_INIT_FAILURE",
            ):
                continue
            error = getattr(event.event_specific_data, "error", None)
            while error is not None and error.cause is not None and not error.message.strip():
                error = error.cause
            text = root_message(error) if error is not None else (event.message or "failed")
            found.append(f"{event.step_key or 'run'}: {text}")
        return list(dict.fromkeys(found))

    @property
    def build_skipped(self) -> bool:
        """The run succeeded without publishing: nothing had changed since the published
        build, so dbt, the mart gate and publishing were skipped."""
        return self.success and not self.published


def quiet_telemetry() -> None:
    """The tools' usage reporting off (these machines have no internet to report to)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def execute_job(
    landing: Path | None = None,
    warehouse: Path | None = None,
    as_of: str | None = None,
    full_refresh: bool = False,
    rebuild: bool = False,
    log_file: Path | None = None,
) -> RunOutcome:
    """Run ``c360_build_job`` in process. A malformed ``as_of`` raises ``SettingsError``
    before anything runs.

    With ``log_file`` the run is quiet: one progress line per step on the terminal, and
    everything else (Dagster's events, dbt's log, Python warnings) goes to that file.
    Without it Dagster's console logger prints at ``C360_LOG_LEVEL`` (default WARNING).
    """
    quiet_telemetry()
    config = {
        "landing_dir": str(landing.resolve()) if landing else "",
        "warehouse_path": str(warehouse.resolve()) if warehouse else "",
        "as_of": as_of or "",
        "skip_unchanged": not rebuild,
        "full_refresh": full_refresh,
    }
    settings = resolve_settings(**config)  # validates before the job starts

    from orchestration.definitions import defs

    job = defs.resolve_job_def(BUILD_JOB)
    if log_file is None:
        loggers = {
            "console": {"config": {"log_level": os.environ.get("C360_LOG_LEVEL", "WARNING")}}
        }
        quiet = contextlib.nullcontext()
    else:
        loggers = {"c360_progress": {}, "c360_file": {"config": {"path": str(log_file)}}}
        quiet = _output_to(log_file)
    with quiet, open_instance(settings.dagster_home) as instance:
        for run_id in close_dead_runs(instance):
            logging.getLogger(__name__).warning(
                "run %s had died without ending: marked failed, its pool slot freed", run_id
            )
        result = job.execute_in_process(
            instance=instance,
            run_config={"resources": {"c360": {"config": config}}, "loggers": loggers},
            tags=run_tags(),
            raise_on_error=False,
        )
        if not result.success:
            # the run-failure sensor alerts only where the daemon runs (make dagster): a
            # run from the CLI or cron alerts itself (once per run, whoever is first)
            write_alert(settings, failure_alert(instance.get_run_by_id(result.run_id), instance))
    close_run_log(result.run_id)
    return RunOutcome(result, settings)


@contextlib.contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """dbt's log lines (dagster-dbt echoes them to stdout), Python logging and warnings go
    to the run's log file instead of the terminal."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    with log_file.open("a") as handle, contextlib.redirect_stdout(handle):
        handler = logging.StreamHandler(handle)
        saved = root.handlers[:]
        root.handlers = [handler]
        logging.captureWarnings(True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                yield
        finally:
            logging.captureWarnings(False)
            root.handlers = saved


def run_pipeline(
    landing: Path | None = None,
    warehouse: Path | None = None,
    as_of: str | None = None,
    full_refresh: bool = False,
    rebuild: bool = False,
) -> bool:
    """Run ``c360_build_job`` in process; return whether it succeeded."""
    return execute_job(landing, warehouse, as_of, full_refresh, rebuild).success
