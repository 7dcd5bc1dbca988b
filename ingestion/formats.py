"""The file formats the suite reads, by file-name suffix: one table for the loader, the
mappings and the benchmark."""

from __future__ import annotations

from pathlib import Path

SUFFIXES: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz", ".tsv", ".tsv.gz"),
    "jsonl": (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz"),
    "parquet": (".parquet",),
}


def file_format(path: Path | str) -> str | None:
    """``csv``, ``jsonl`` or ``parquet`` from the name; None for anything else."""
    name = Path(path).name.lower()
    return next((fmt for fmt, suffixes in SUFFIXES.items() if name.endswith(suffixes)), None)


def is_tab_separated(path: Path | str) -> bool:
    return ".tsv" in Path(path).name.lower()
