"""Loggers for runs started from the command line: a few progress lines on the terminal,
everything (every Dagster event, dbt's log) in a file.

Dagster's console logger prints every step event and repeats warnings; that is right for
the UI's compute logs and for debugging (``c360 run -v``), not for a person waiting on a
run. ``c360_progress`` prints one line per finished step, a failed step with its error's
first line, and nothing else.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import dagster as dg

# a step's log message with this prefix is progress within the step (dbt's models)
PROGRESS_PREFIX = "dbt progress: "
# a message the terminal shows while a run cannot go on yet (waiting for the writer lock)
NOTICE_PREFIX = "c360 notice: "

STEP_LABELS = {
    "raw_tables": "ingestion: landed files loaded into raw",
    "raw_quality_gate": "raw quality gate (GX)",
    "dbt_models": "dbt build: models and tests",
    "mart_quality_gate": "mart quality gate (GX)",
    "metric_tables": "metrics layer: MetricFlow saved queries",
    "serving__warehouse": "publish: serving database",
}


class _ProgressHandler(logging.Handler):
    def __init__(self, stream) -> None:
        super().__init__(logging.DEBUG)  # Dagster logs step events at DEBUG
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", {})
        message = str(meta.get("orig_message") or "")
        if message.startswith(PROGRESS_PREFIX):  # dbt's models, a tenth at a time
            self.stream.write(f"           {message.removeprefix(PROGRESS_PREFIX)}\n")
            self.stream.flush()
            return
        if message.startswith(NOTICE_PREFIX):
            self.stream.write(f"  waiting  {message.removeprefix(NOTICE_PREFIX)}\n")
            self.stream.flush()
            return
        event = meta.get("dagster_event")
        if event is None or not event.step_key:
            return
        label = STEP_LABELS.get(event.step_key, event.step_key)
        if event.event_type_value == "STEP_SUCCESS":
            seconds = event.event_specific_data.duration_ms / 1000
            line = f"  done     {label} ({seconds:.1f} s)"
        elif event.event_type_value == "STEP_SKIPPED":
            line = f"  skipped  {label}"
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            message = root_message(error) if error else "failed"
            line = f"  FAILED   {label}: {message}"
        elif event.event_type_value == "STEP_START":
            line = f"  running  {label} ..."
        else:
            return
        self.stream.write(line + "\n")
        self.stream.flush()


def root_message(error) -> str:
    """The innermost cause's first line without its exception class: "another run ... is
    writing ...", not the wrapper Dagster puts around it."""
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    first = lines[0] if lines else error.cls_name or "failed"
    head, _, rest = first.partition(": ")
    return rest if rest and "." in head and " " not in head else first


@dg.logger(description="One line per step on the terminal (c360 run without -v).")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger(f"c360.progress.{init_context.run_id}")
    logger.handlers = [_ProgressHandler(sys.__stdout__)]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str), "level": dg.Field(str, default_value="DEBUG")},
    description="Every event of the run, appended to a file.",
)
def file_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    path = Path(init_context.logger_config["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(f"c360.file.{init_context.run_id}")
    logger.handlers = [handler]
    logger.setLevel(init_context.logger_config["level"])
    logger.propagate = False
    return logger


def close_run_log(run_id: str) -> None:
    """Close the run's log file: Dagster has no end-of-run hook for a logger, and a file
    left open is one handle per run for the life of the process (a ResourceWarning)."""
    logger = logging.getLogger(f"c360.file.{run_id}")
    for handler in logger.handlers:
        handler.close()
    logger.handlers = []


LOGGERS = {
    "console": dg.colored_console_logger,
    "c360_progress": progress_logger,
    "c360_file": file_logger,
}
