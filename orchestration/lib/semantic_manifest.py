"""dbt's semantic manifest (``target/semantic_manifest.json``, written by ``dbt parse``)
read as plain JSON: what the Dagster definitions need without importing MetricFlow.

The manifest names tables with the catalog of the file dbt parsed
(``"warehouse"."marts"...``); here each is named by schema and table only, so the same
definitions run on any warehouse file and on the serving copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from orchestration.lib.settings import DBT_PROJECT_DIR

SEMANTIC_MANIFEST = DBT_PROJECT_DIR / "target" / "semantic_manifest.json"
METRICS_SCHEMA = "metrics"


def load_semantic_manifest(path: Path = SEMANTIC_MANIFEST) -> dict:
    manifest = json.loads(path.read_text())
    for schema, table, relation in _relations(manifest):
        relation["database"] = None
        relation["relation_name"] = f"{schema}.{table}"
    return manifest


def _relations(manifest: dict) -> list[tuple[str, str, dict]]:
    relations = [m["node_relation"] for m in manifest["semantic_models"]] + [
        spine["node_relation"] for spine in manifest["project_configuration"]["time_spines"]
    ]
    return [(r["schema_name"], r["alias"], r) for r in relations]


def metric_inputs(manifest: dict) -> list[tuple[str, str]]:
    """The tables the metrics read, as ``(schema, table)``."""
    return sorted({(schema, table) for schema, table, _ in _relations(manifest)})


def saved_queries(manifest: dict) -> list[dict]:
    """The saved queries, each published as ``metrics.<name>``."""
    return sorted(manifest["saved_queries"], key=lambda q: q["name"])


def column_descriptions(manifest: dict) -> dict[str, str]:
    """Output column -> description: a metric by its name, a dimension as
    ``<primary entity>__<dimension>``, the time columns as ``metric_time__<grain>``."""
    described = {m["name"]: m.get("description") or m["name"] for m in manifest["metrics"]}
    for model in manifest["semantic_models"]:
        primary = next(e["name"] for e in model["entities"] if e["type"] == "primary")
        for dimension in model["dimensions"]:
            text = dimension.get("description") or dimension["name"]
            described[f"{primary}__{dimension['name']}"] = text
    for grain in ("day", "week", "month", "quarter", "year"):
        described[f"metric_time__{grain}"] = (
            f"First day of the {grain} of each metric's own time dimension."
        )
    return described
