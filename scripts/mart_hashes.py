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

WALL_CLOCK_COLUMNS = {
    "logged_at",
    "invocation_id",
    "saved_at",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
    "dbt_scd_id",
    "published_at",
    "run_id",
    "checked_at",
}
REPO_ROOT = Path(__file__).resolve().parents[1]


def table_hashes(warehouse: Path) -> dict[str, list]:
    import duckdb

    out: dict[str, list] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'snapshots') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if c not in WALL_CLOCK_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            count, digest = con.execute(
                f"select count(*), md5(coalesce(string_agg(h, ',' order by h), '')) from "
                f"(select md5(row({select})::varchar) as h from {schema}.{table})"
            ).fetchone()
            out[f"{schema}.{table}"] = [count, digest]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args()
    from ingestion.demo.generator import GenerateOptions, generate
    from ingestion.mapping import apply_mapping, find_mapping, parse_mapping
    from orchestration.runner import run_pipeline

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
