"""Hash every mart table of a pipeline run, to show a refactor changes no figure.

    python scripts/mart_hashes.py OUT.json [--workdir DIR] [--compare BASELINE.json]

Runs the whole pipeline on the demo data (scale 0.02, seed 42) and on the Online Retail
example (when ../shared/datasets/online_retail exists) and writes, per dataset and table,
the row count and an order-independent hash of the rows. Columns that record the wall
clock or a run id (they differ between any two runs) are left out of the hash.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args()
    from ingestion.demo.generator import GenerateOptions, generate
    from ingestion.mapping import apply_mapping, find_mapping, parse_mapping
    from orchestration.runner import run_pipeline
    from quality.table_hashes import table_hashes

    work = args.workdir or Path(tempfile.mkdtemp(prefix="mart_hashes_"))
    result = {}
    demo = work / "demo"
    generate(GenerateOptions(out=demo / "landing", scale=0.02, seed=42))
    assert run_pipeline(landing=demo / "landing", warehouse=demo / "warehouse.duckdb")
    result["demo"] = table_hashes(demo / "warehouse.duckdb")
    retail_export = Path(
        os.environ.get("C360_ONLINE_RETAIL_DIR", REPO_ROOT.parent / "shared/datasets/online_retail")
    )
    if retail_export.exists():
        retail = work / "retail"
        apply_mapping(
            parse_mapping(find_mapping("online_retail")), retail_export, retail / "landing"
        )
        assert run_pipeline(landing=retail / "landing", warehouse=retail / "warehouse.duckdb")
        result["online_retail"] = table_hashes(retail / "warehouse.duckdb")
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    if args.compare:
        baseline = json.loads(args.compare.read_text())
        differences = [
            f"{dataset} {table}: {baseline[dataset].get(table)} -> {result[dataset].get(table)}"
            for dataset in baseline
            for table in sorted(set(baseline[dataset]) | set(result.get(dataset, {})))
            if baseline[dataset].get(table) != result.get(dataset, {}).get(table)
        ]
        print("\n".join(differences) or f"identical: every table of {', '.join(baseline)}")
        raise SystemExit(1 if differences else 0)


if __name__ == "__main__":
    main()
