"""Bookkeeping: the ingest schema (manifest, quarantine), the raw tables the contracts
declare, the one writer of manifest rows, and the per-file results the loader reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from ingestion.contracts import Contract

LOAD_METADATA_COLUMNS = {
    "_extra": "JSON",
    "_load_id": "BIGINT",
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_file_checksum": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
}


@dataclass
class FileResult:
    contract: str
    file: str
    checksum: str
    status: str  # loaded | skipped | rejected
    rows_landed: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    schema_drift: list[str] = field(default_factory=list)
    error: str | None = None
    rows_corrected: int = 0
    rows_replaced: int = 0


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def for_contract(self, name: str) -> list[FileResult]:
        return [f for f in self.files if f.contract == name]

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    def totals(self) -> dict[str, int]:
        return {
            "files_loaded": sum(f.status == "loaded" for f in self.files),
            "files_skipped": sum(f.status == "skipped" for f in self.files),
            "files_rejected": sum(f.status == "rejected" for f in self.files),
            "rows_landed": sum(f.rows_landed for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "rows_corrected": sum(f.rows_corrected for f in self.files),
            "rows_replaced": sum(f.rows_replaced for f in self.files),
        }


def ensure_warehouse_schema(con: duckdb.DuckDBPyConnection, contracts: Iterable[Contract]) -> None:
    """Create the ingest bookkeeping tables and every raw table a contract declares.

    Raw tables exist even for entities that never land, so dbt models over absent sources
    build empty instead of failing. New optional contract columns are added in place.
    """
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists ingest")
    con.execute("create sequence if not exists ingest.load_id_seq start 1")
    con.execute(
        """
        create table if not exists ingest.load_manifest (
            load_id bigint primary key,
            batch_id varchar,
            source varchar,
            entity varchar,
            file_path varchar,
            file_checksum varchar,
            file_size bigint,
            file_version integer,
            file_format varchar,
            status varchar,
            rows_landed bigint,
            rows_loaded bigint,
            rows_quarantined bigint,
            schema_drift varchar[],
            rule varchar,
            error varchar,
            started_at timestamp,
            finished_at timestamp
        )
        """
    )
    # added after the first release: a warehouse from before gains them in place
    con.execute("alter table ingest.load_manifest add column if not exists rows_corrected bigint")
    con.execute("alter table ingest.load_manifest add column if not exists rows_replaced bigint")
    # the rows of an earlier version of a file that a new version under the same name
    # replaced (contract `redelivery: replace`): out of raw, kept here, never lost
    con.execute(
        """
        create table if not exists ingest.replaced_rows (
            load_id bigint,
            source varchar,
            entity varchar,
            file_path varchar,
            replaced_load_id bigint,
            row_number bigint,
            record varchar,
            replaced_at timestamp
        )
        """
    )
    con.execute(
        """
        create table if not exists ingest.quarantine (
            load_id bigint,
            batch_id varchar,
            source varchar,
            entity varchar,
            file_path varchar,
            row_number bigint,
            column_name varchar,
            rule varchar,
            reason varchar,
            record varchar,
            quarantined_at timestamp
        )
        """
    )
    # one look at what raw holds, for every contract (each lookup costs tens of ms)
    existing: dict[str, set[str]] = {}
    for table_name, column_name in con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'raw'"
    ).fetchall():
        existing.setdefault(table_name, set()).add(column_name)
    for contract in contracts:
        columns = {c.name: c.duckdb_type for c in contract.columns} | LOAD_METADATA_COLUMNS
        table = f"raw.{contract.name}"
        if contract.name not in existing:
            ddl = ", ".join(f'"{name}" {type_}' for name, type_ in columns.items())
            con.execute(f"create table {table} ({ddl})")
            continue
        for name, type_ in columns.items():
            if name not in existing[contract.name]:
                con.execute(f'alter table {table} add column "{name}" {type_}')


@dataclass(frozen=True)
class ManifestRow:
    """One row of ``ingest.load_manifest``: a file version and what became of it."""

    load_id: int
    batch_id: str
    source: str
    entity: str
    file_path: str
    file_checksum: str
    file_size: int
    file_version: int
    file_format: str | None
    status: str  # loaded | rejected
    rows_landed: int | None
    rows_loaded: int
    rows_quarantined: int
    schema_drift: list[str]
    rule: str | None
    error: str | None
    started_at: datetime
    # rows whose key an earlier file loaded with other values, loaded as its correction
    rows_corrected: int = 0
    # rows of earlier versions of this file (same name) that this version replaced
    rows_replaced: int = 0


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select nextval('ingest.load_id_seq')").fetchone()[0]


def write_manifest_row(con: duckdb.DuckDBPyConnection, row: ManifestRow) -> None:
    """The one writer of the manifest; ``finished_at`` is the time of writing."""
    con.execute(
        "insert into ingest.load_manifest (load_id, batch_id, source, entity, file_path, "
        "file_checksum, file_size, file_version, file_format, status, rows_landed, "
        "rows_loaded, rows_quarantined, schema_drift, rule, error, started_at, finished_at, "
        "rows_corrected, rows_replaced) values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp, ?, ?)",
        [
            row.load_id,
            row.batch_id,
            row.source,
            row.entity,
            row.file_path,
            row.file_checksum,
            row.file_size,
            row.file_version,
            row.file_format,
            row.status,
            row.rows_landed,
            row.rows_loaded,
            row.rows_quarantined,
            row.schema_drift,
            row.rule,
            row.error,
            row.started_at,
            row.rows_corrected,
            row.rows_replaced,
        ],
    )
