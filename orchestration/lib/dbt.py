"""dbt wiring: one DbtProject and a translator mapping dbt nodes to warehouse-shaped keys."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)
from packaging import version

from orchestration.lib.run_logging import PROGRESS_PREFIX
from orchestration.lib.settings import DBT_PROJECT_DIR
from warehouse.connection import connection
from warehouse.faults import crash_point

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _project_files_newer_than(path: Path) -> bool:
    built = path.stat().st_mtime
    folders = ("models", "macros", "tests", "snapshots", "seeds")
    return (
        any(
            f.stat().st_mtime > built
            for folder in folders
            for f in (DBT_PROJECT_DIR / folder).rglob("*")
            if f.is_file()
        )
        or (DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime > built
    )


# The dbt next to this interpreter: works without an activated virtualenv (`make dagster`
# does not put .venv/bin on PATH, and dagster-dbt's own preparation looks for `dbt` there).
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
# What a run's build invokes: the same dbt, ending when the run's process ends
# (orchestration/lib/dbt_child.py), so a killed run leaves no dbt writing the warehouse.
DBT_RUN_EXECUTABLE = Path(sys.executable).with_name("c360-dbt")


def ensure_manifest() -> Path:
    """Parse the dbt project when the manifest is missing or older than any project file.

    Used instead of ``DbtProject.prepare_if_dev`` (which only acts under ``dagster dev`` and
    needs ``dbt`` on PATH), everywhere, so an edited model never meets a stale manifest
    (which fails with a KeyError at run time).
    """
    manifest = dbt_project.manifest_path

    def stale() -> bool:
        return not manifest.exists() or _project_files_newer_than(manifest)

    if not stale():
        return manifest
    # two processes starting at once (a run and the UI, two test workers) must not both
    # write the manifest while the other reads it: one parses, the other waits and reuses
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with (manifest.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale():
            subprocess.run(
                [
                    str(DBT_EXECUTABLE),
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                ],
                check=True,
                env={**os.environ, "DO_NOT_TRACK": "1"},
            )
    return manifest


class C360DbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two costs it pays on every invocation for features
    this project does not use (about 11 s of CPU a run, whatever the data size): running
    ``dbt --version`` in a subprocess to learn the version, which is the dbt-core
    installed beside this interpreter (``DBT_EXECUTABLE``), and loading a dbt adapter in
    this process, which only ``fetch_row_counts`` and ``fetch_column_metadata`` use (row
    counts come from ``table_row_counts`` below, once dbt is done)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


class C360DbtTranslator(DagsterDbtTranslator):
    """Asset keys are the real relations, ``[schema, name]``, so a dbt source is the raw
    asset that ingestion materialises and a snapshot sits in ``snapshots``. Groups follow
    the dbt folders (staging, intermediate, marts); snapshots and seeds (reference value
    lists) have their own."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        relation = (
            dbt_resource_props.get("identifier")  # a source's table
            or dbt_resource_props.get("alias")
            or dbt_resource_props["name"]
        )
        return dg.AssetKey([dbt_resource_props["schema"], relation])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "snapshot":
            return "snapshots"
        if dbt_resource_props["resource_type"] == "source":
            return "ingestion"
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = C360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def prune_dbt_artifacts(keep: int = 3, idle_seconds: float = 3600) -> None:
    """Delete the artifacts of old dbt invocations (dagster-dbt writes each to its own
    folder under target/, about 12 MB at demo scale), keeping the last ``keep``.

    A folder whose log was written within ``idle_seconds`` is never deleted: it may belong
    to a run on another warehouse that is still going.
    """
    target = DBT_PROJECT_DIR / "target"
    if not target.is_dir():
        return

    def last_write(folder: Path) -> float | None:
        """When the invocation last wrote; None once another run's prune removed it."""
        try:
            log = folder / "dbt.log"
            return (log if log.exists() else folder).stat().st_mtime
        except FileNotFoundError:
            return None

    # two runs ending at once prune together: a folder may vanish while this one looks
    written = {
        p: last_write(p)
        for p in target.iterdir()
        if p.is_dir() and p.name.startswith("dbt_models-")
    }
    invocations = sorted((p for p, t in written.items() if t is not None), key=written.get)
    cutoff = time.time() - idle_seconds
    for old in invocations[: max(len(invocations) - keep, 0)]:
        if written[old] < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def _parsed_project_file(dbt_vars: Mapping[str, object]) -> Path:
    """Where the parsed project of invocations with these vars is kept: one file per set of
    vars, so runs on two warehouses (whose vars differ) do not replace each other's."""
    key = hashlib.sha256(json.dumps(dict(dbt_vars), sort_keys=True).encode()).hexdigest()[:16]
    return DBT_PROJECT_DIR / "target" / f"partial_parse-{key}.msgpack"


def invocation_target(run_id: str, dbt_vars: Mapping[str, object]) -> Path:
    """A new target folder for one dbt invocation (artifacts of concurrent runs never mix),
    holding the parsed project (``partial_parse.msgpack``) that the last invocation with the
    same vars left: dbt then re-parses only the project files that changed since, instead of
    the whole project (about 3 s a run)."""
    target = DBT_PROJECT_DIR / "target" / f"dbt_models-{run_id[:7]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    kept = _parsed_project_file(dbt_vars)
    with contextlib.suppress(FileNotFoundError):  # none yet for these vars: dbt parses all
        shutil.copyfile(kept, target / "partial_parse.msgpack")
    return target


def keep_parsed_project(target: Path, dbt_vars: Mapping[str, object]) -> None:
    """Keep the parsed project an invocation wrote, for the next one with the same vars;
    replaced atomically, so an invocation starting meanwhile reads the old or the new one."""
    parsed = target / "partial_parse.msgpack"
    if not parsed.exists():
        return
    kept = _parsed_project_file(dbt_vars)
    handle, staged = tempfile.mkstemp(dir=kept.parent, prefix=".partial_parse-")
    os.close(handle)
    shutil.copyfile(parsed, staged)
    os.replace(staged, kept)


def table_row_counts(warehouse: Path) -> dict[dg.AssetKey, int]:
    """Rows of every table (not view) in the warehouse, by asset key ``[schema, table]``.
    Views are left out: counting one runs its whole query."""
    with connection(warehouse, read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and not temporary"
        ).fetchall()
        return {
            dg.AssetKey([schema, table]): con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }


def with_progress_and_row_counts(
    context: dg.AssetExecutionContext, events: Iterable[Any], warehouse: Path
) -> Iterator[Any]:
    """dbt's events, each materialisation with ``dagster/row_count``.

    dbt holds the DuckDB file while it runs, so the counts are read when it is done: the
    events are held until then (they reach the instance when the step ends anyway) and
    progress is logged meanwhile, every tenth of the models. A failing dbt still reports
    what it built before the failure, then the failure.
    """
    total = max(len(context.selected_asset_keys), 1)
    held: list[Any] = []
    built, reported = 0, 0
    try:
        for event in events:
            held.append(event)
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                built += 1
                if built == total // 3:
                    crash_point("dbt.mid_build")  # a third of the models written, dbt running
                if built * 10 // total > reported or built == total:
                    reported = built * 10 // total
                    context.log.info(f"{PROGRESS_PREFIX}{built}/{total} models built")
    finally:
        counts = table_row_counts(warehouse)
        for event in held:
            key = getattr(event, "asset_key", None) or _output_key(context, event)
            if key in counts and isinstance(event, dg.Output | dg.AssetMaterialization):
                event = event.with_metadata({**event.metadata, "dagster/row_count": counts[key]})
            yield event


def _output_key(context: dg.AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    return None
