"""Ingestion contracts: what each landed entity must look like, declared as YAML data.

Contracts live in ``ingestion/<source>/contracts/<entity>.yml``. Adding an entity means adding
a file; nothing else lists them. This module only parses and exposes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

INGESTION_DIR = Path(__file__).resolve().parent

# The text encodings a contract may declare (DuckDB's reader reads them natively).
ENCODINGS = ("utf-8", "utf-16", "latin-1")

# What a row does whose key (and cursor) an earlier file loaded with other values
# (README, "What happens to bad input"): the later delivery is the correction and wins,
# or it is held in the quarantine as a conflict for someone to decide.
CORRECTIONS = ("later_wins", "conflict")
# What a file delivered again under the same name does to its earlier version's rows:
# replaces them (keys the new version no longer holds leave the marts), or keeps them
# (the new version's rows correct theirs; keys it no longer holds stay as they were).
REDELIVERIES = ("replace", "keep")

# Contract type -> DuckDB type. Money is DECIMAL so sums reconcile to the cent.
DUCKDB_TYPES: dict[str, str] = {
    "varchar": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18, 4)",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False  # the column must be present in every file
    nullable: bool = True  # the value may be empty
    accepted_values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    default: str | None = None
    description: str = ""

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns, as a DuckDB boolean expression on the typed row."""

    name: str
    column: str
    description: str
    fails_when: str


@dataclass(frozen=True)
class Contract:
    source: str
    entity: str
    description: str
    primary_key: tuple[str, ...]
    cursor: str | None
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = field(default_factory=tuple)
    freshness_hours: int | None = None
    # columns whose latest value, over every contract, is the as-of date of a run that is
    # not given one (see ingestion.as_of)
    as_of_event_times: tuple[str, ...] = ()
    # how the entity's text files are written, when not UTF-8 with commas (tabs for .tsv)
    encoding: str = "utf-8"
    delimiter: str | None = None
    # without a cursor nothing else can say which version is newer, so the later file
    # wins; with one, a correction carries a newer cursor and a same-cursor clash is held
    corrections: str = "later_wins"
    redelivery: str = "replace"

    @property
    def name(self) -> str:
        """``<source>__<entity>``: the raw table name and the Dagster asset name."""
        return f"{self.source}__{self.entity}"

    @property
    def landing_subdir(self) -> str:
        return f"{self.source}/{self.entity}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _parse(source: str, path: Path) -> Contract:
    spec = yaml.safe_load(path.read_text())
    columns = tuple(
        Column(
            name=c["name"].lower(),
            type=c["type"],
            required=c.get("required", False),
            nullable=c.get("nullable", True),
            accepted_values=tuple(c["accepted_values"]) if c.get("accepted_values") else None,
            min=c.get("min"),
            max=c.get("max"),
            default=c.get("default"),
            description=c.get("description", ""),
        )
        for c in spec["columns"]
    )
    for c in columns:
        if c.type not in DUCKDB_TYPES:
            raise ValueError(f"{path}: column {c.name!r} has unknown type {c.type!r}")
    names = {c.name for c in columns}
    for key in spec["primary_key"]:
        if key not in names:
            raise ValueError(f"{path}: primary key column {key!r} is not declared")
    for column in spec.get("as_of_event_times", []):
        if column not in names:
            raise ValueError(f"{path}: as-of event time column {column!r} is not declared")
    encoding = spec.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        raise ValueError(f"{path}: encoding must be one of {', '.join(ENCODINGS)}")
    delimiter = spec.get("delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ValueError(f"{path}: delimiter must be one character (not a quote or newline)")
    corrections = spec.get("corrections", "conflict" if spec.get("cursor") else "later_wins")
    if corrections not in CORRECTIONS:
        raise ValueError(f"{path}: corrections must be one of {', '.join(CORRECTIONS)}")
    redelivery = spec.get("redelivery", "replace")
    if redelivery not in REDELIVERIES:
        raise ValueError(f"{path}: redelivery must be one of {', '.join(REDELIVERIES)}")
    return Contract(
        source=source,
        entity=spec["entity"],
        description=spec.get("description", "").strip(),
        primary_key=tuple(spec["primary_key"]),
        cursor=spec.get("cursor"),
        columns=columns,
        row_rules=tuple(RowRule(**r) for r in spec.get("row_rules", [])),
        freshness_hours=spec.get("freshness_hours"),
        as_of_event_times=tuple(spec.get("as_of_event_times", [])),
        encoding=encoding,
        delimiter=delimiter,
        corrections=corrections,
        redelivery=redelivery,
    )


@cache
def load_contracts() -> tuple[Contract, ...]:
    """Every contract under ``ingestion/<source>/contracts/``, sorted by source then entity."""
    found = []
    for path in sorted(INGESTION_DIR.glob("*/contracts/*.yml")):
        found.append(_parse(path.parent.parent.name, path))
    return tuple(found)


def contracts_by_source() -> dict[str, list[Contract]]:
    grouped: dict[str, list[Contract]] = {}
    for contract in load_contracts():
        grouped.setdefault(contract.source, []).append(contract)
    return grouped
