"""Validated raw rows as Parquet: the sources of the Spark engine.

Ingestion checks every file against its contract in DuckDB (quarantine and manifest as
always); the rows that passed are then also written here, one dataset per contract and
one Hive-style partition per load (``<out>/<source>__<entity>/_load_id=<n>/``), which is
how Spark reads a table that only ever grows by whole loads.

A load is written once: its folder appears by an atomic rename after the file inside it
is complete, so a crash leaves either the whole load or nothing, and the next export
writes what is missing. Raw rows are append-only, so a written load never changes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

PARTITION = "_load_id"


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' order by 1"
        ).fetchall()
    ]


def exported_loads(dataset: Path) -> set[int]:
    if not dataset.is_dir():
        return set()
    prefix = f"{PARTITION}="
    return {
        int(part.name.removeprefix(prefix))
        for part in dataset.iterdir()
        if part.is_dir() and part.name.startswith(prefix)
    }


def _select_list(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """Every column but the partition column, JSON as text (Spark has no JSON type)."""
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = 'raw' and table_name = ? order by column_index",
        [table],
    ).fetchall()
    return ", ".join(
        f'cast("{name}" as varchar) as "{name}"' if kind == "JSON" else f'"{name}"'
        for name, kind in columns
        if name != PARTITION
    )


def export_raw_loads(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, list[int]]:
    """Write every load of every raw table that ``out_dir`` does not hold yet; returns the
    loads written per table."""
    written: dict[str, list[int]] = {}
    for table in raw_tables(con):
        dataset = out_dir / table
        have = exported_loads(dataset)
        loads = [
            load
            for (load,) in con.execute(
                f'select distinct "{PARTITION}" from raw."{table}" order by 1'
            ).fetchall()
            if load not in have
        ]
        if not loads:
            continue
        dataset.mkdir(parents=True, exist_ok=True)
        columns = _select_list(con, table)
        for load in loads:
            final = dataset / f"{PARTITION}={load}"
            staging = dataset / f".{PARTITION}={load}.writing"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            con.execute(
                f'copy (select {columns} from raw."{table}" where "{PARTITION}" = ? '
                f"order by _source_file, _row_number) to '{staging / 'part-0.parquet'}' "
                "(format parquet, compression zstd)",
                [load],
            )
            os.replace(staging, final)
        written[table] = loads
    return written
