"""dbt wiring: one DbtProject and a translator mapping dbt nodes to warehouse-shaped keys."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.lib.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> Path:
    """Parse the dbt project when no manifest exists yet (tests, CI, first CLI run).

    ``prepare_if_dev`` only acts under ``dagster dev``; everywhere else we parse once.
    """
    dbt_project.prepare_if_dev()
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env={**__import__("os").environ, "DO_NOT_TRACK": "1"},
        )
    return manifest


class C360DbtTranslator(DagsterDbtTranslator):
    """Asset keys mirror warehouse tables: ``[schema, table]``; groups follow dbt folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props["config"].get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


translator = C360DbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
