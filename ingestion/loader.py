"""Contract-checked, idempotent loading of landed files into the warehouse's ``raw`` schema.

Every file under ``<landing>/<source>/<entity>/`` goes through the same steps:

1. checksum: a file whose bytes were already loaded is skipped (under its own name, its
   latest version; a new name whose content another file had is recorded as a copy);
2. read with DuckDB's own readers, every value as text, each row keeping its line number
   (``ingestion.readers``);
3. file-level checks (empty, undecodable, truncated, missing required column): the whole
   file is rejected and nothing of it loads;
4. row-level checks in one SQL pass (``ingestion.contract_sql``): failing rows go to
   ``ingest.quarantine`` with file, line, column, rule and reason; the rest are cast to the
   contract types;
5. one transaction writes the good rows to ``raw.<source>__<entity>``, the bad rows to
   the quarantine and the file to ``ingest.load_manifest`` (``ingestion.bookkeeping``). A
   crash before the commit leaves no trace, so a rerun loads the file exactly once.

Raw tables are append-only history: corrections (a later delivery of a key) are resolved
in dbt staging, never by updating raw. The one exception is a file delivered again under
its name (contract ``redelivery: replace``): its earlier versions' rows move to
``ingest.replaced_rows`` in the new version's transaction.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.bookkeeping import (
    FileResult,
    LoadReport,
    ManifestRow,
    ensure_warehouse_schema,
    next_load_id,
    write_manifest_row,
)
from ingestion.contract_sql import (
    EventWindow,
    check_rows,
    held_back_record,
    mark_conflicting_versions,
)
from ingestion.contracts import Contract, load_contracts
from ingestion.formats import file_format
from ingestion.readers import READERS, FileRejected, TextFormat
from ingestion.sql import ident, sql_str
from warehouse.faults import crash_point

log = logging.getLogger(__name__)

# Failure injection for crash-recovery tests: the process exits hard at the named point.


def _walk(folder: Path) -> list[Path]:
    """Every entry under ``folder``, never following a symbolic link, skipping names that
    start with ``.`` or ``_`` (hidden files, in-progress uploads, ``_truth/``)."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in [*files, *(d for d in os.listdir(root) if (Path(root) / d).is_symlink())]:
            if not name.startswith((".", "_")):
                found.append(Path(root) / name)
    return sorted(set(found))


def _is_regular(path: Path) -> bool:
    return not path.is_symlink() and stat.S_ISREG(path.lstat().st_mode)


class WarehouseWriteFailed(RuntimeError):
    """The warehouse file could not be written (a full disk, a quota); the file's load
    was rolled back whole."""


def discover_files(landing_dir: Path, contract: Contract) -> list[Path]:
    """Landed files for a contract, in name order (which is delivery order by convention):
    regular files of a format the loader reads; symbolic links and special files are
    never opened (``unusable_entries`` reports them)."""
    folder = landing_dir / contract.landing_subdir
    if not folder.is_dir() or folder.is_symlink():
        return []
    return [p for p in _walk(folder) if _is_regular(p) and file_format(p)]


def unusable_entries(
    landing_dir: Path, contracts: Iterable[Contract]
) -> list[tuple[Path, str, str, str]]:
    """What lies in the landing folder and will not be loaded, as (path, status, rule,
    reason): symbolic links and special files (rejected, never opened), files of an
    unknown type in an entity folder and anything outside a contract's folder (ignored)."""
    known = {c.landing_subdir for c in contracts}
    out = []
    for path in _walk(landing_dir):
        relative = path.relative_to(landing_dir)
        entity_folder = "/".join(relative.parts[:2])
        if path.is_symlink():
            out.append((path, "rejected", "regular_file", "a symbolic link: never followed"))
        elif path.is_dir():
            continue
        elif not _is_regular(path):
            out.append(
                (path, "rejected", "regular_file", "not a regular file (pipe, socket, device)")
            )
        elif entity_folder not in known:
            out.append(
                (
                    path,
                    "ignored",
                    "known_entity",
                    f"no contract reads {entity_folder or 'the landing root'}/",
                )
            )
        elif not file_format(path):
            out.append(
                (
                    path,
                    "ignored",
                    "known_format",
                    "not a file type the loader reads (csv, jsonl, parquet)",
                )
            )
    return out


def record_unusable(
    con: duckdb.DuckDBPyConnection, landing_dir: Path, batch_id: str, contracts: Iterable[Contract]
) -> list[FileResult]:
    """One manifest row per unusable entry, the first time it is seen (by path and, for a
    regular file, content), so every landed file ends in a recorded state."""
    results = []
    for path, status, rule, reason in unusable_entries(landing_dir, contracts):
        relative = path.relative_to(landing_dir).as_posix()
        # a link or special file is never read: it is identified by its path
        checksum = (
            file_checksum(path)
            if status == "ignored"
            else hashlib.sha256(f"{rule}:{relative}".encode()).hexdigest()
        )
        if con.execute(
            "select 1 from ingest.load_manifest where file_checksum = ? and file_path = ?",
            [checksum, relative],
        ).fetchone():
            continue
        parts = relative.split("/")
        source = parts[0] if len(parts) > 1 else ""
        entity = parts[1] if len(parts) > 2 else ""
        message = f"{relative}: {status}, not loaded: {reason} (rule: {rule})"
        _record_unread(
            con, path, relative, checksum, batch_id, (source, entity), status, rule, message
        )
        results.append(FileResult("", relative, checksum, status, error=message))
    return results


def _record_unread(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    relative: str,
    checksum: str,
    batch_id: str,
    source_entity: tuple[str, str],
    status: str,
    rule: str,
    message: str,
) -> None:
    """The manifest row of a landed entry that is not read (rejected or ignored without
    opening it): nothing landed from it, so its counts are zero and reconcile."""
    log.warning(message)
    write_manifest_row(
        con,
        ManifestRow(
            load_id=next_load_id(con),
            batch_id=batch_id,
            source=source_entity[0],
            entity=source_entity[1],
            file_path=relative,
            file_checksum=checksum,
            file_size=path.lstat().st_size,
            file_version=1,
            file_format=file_format(path),
            status=status,
            rows_landed=0,
            rows_loaded=0,
            rows_quarantined=0,
            schema_drift=[],
            rule=rule,
            error=message,
            started_at=con.execute("select now()::timestamp").fetchone()[0],
        ),
    )


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_and_check(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    relative: str,
    window: EventWindow,
) -> tuple[list[str], int]:
    """Land the file and check it against its contract; raise ``FileRejected`` when the
    whole file is unusable. Leaves ``_checked`` for the write step; returns the file's
    columns and how many of its rows correct a version an earlier file loaded."""
    if path.stat().st_size == 0:
        raise FileRejected("not_empty", "the file is empty (0 bytes)", rows_landed=0)
    names = READERS[file_format(path)](con, path, TextFormat(contract.encoding, contract.delimiter))
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise FileRejected(
            "unique_columns", f"column(s) {', '.join(duplicates)} appear more than once"
        )
    missing = [c for c in contract.required_columns if c not in names]
    if missing:
        other_delimiter = next(
            (d for d in (";", "|", "\t") if len(names) == 1 and d in names[0]), None
        )
        hint = (
            f" (fields must be separated by commas, not {other_delimiter!r}, unless the "
            f"contract declares delimiter: {other_delimiter!r})"
            if other_delimiter
            else ""
        )
        raise FileRejected(
            "required_column",
            f"missing required column(s) {', '.join(missing)}; "
            f"the file has {', '.join(names) or 'no columns'}{hint}",
            rows_landed=con.execute("select count(*) from _landed").fetchone()[0],
        )
    check_rows(con, contract, names, window)
    return names, mark_conflicting_versions(con, contract, relative)


def _write_checked(
    con: duckdb.DuckDBPyConnection, contract: Contract, file: ManifestRow
) -> tuple[int, int]:
    """Good rows to raw, bad rows to the quarantine; returns (loaded, quarantined)."""
    contract_cols = [c.name for c in contract.columns]
    con.execute(
        f"""
        insert into raw.{contract.name} ({", ".join(ident(c) for c in contract_cols)}, _extra,
            _load_id, _batch_id, _source_file, _file_checksum, _row_number, _loaded_at)
        select {", ".join(f"t__{c}" for c in contract_cols)}, _extra, ?, ?, ?, ?,
               _row_number, ?
        from _checked where _violation is null order by _row_number
        """,
        [file.load_id, file.batch_id, file.file_path, file.file_checksum, file.started_at],
    )
    crash_point("ingest.after_raw_insert")
    where = [file.load_id, file.batch_id, contract.source, contract.entity, file.file_path]
    con.execute(
        f"""
        insert into ingest.quarantine
        select ?, ?, ?, ?, ?, checked._row_number, checked._violation.column_name,
               checked._violation.rule, checked._violation.reason, {held_back_record(con)}, ?
        from _checked as checked
        join _landed as landed on landed._row_number = checked._row_number
        where checked._violation is not null
        union all
        select ?, ?, ?, ?, ?, _row_number, null, 'well_formed_line',
               error_type || ': ' || error_message, record, ?
        from _landed_rejects
        """,
        [*where, file.started_at] * 2,
    )
    return con.execute(
        """
        select count(*) filter (where _violation is null),
               count(*) filter (where _violation is not null)
               + (select count(*) from _landed_rejects)
        from _checked
        """
    ).fetchone()


def load_file(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    landing_dir: Path,
    batch_id: str,
    window: EventWindow = EventWindow(),
    on_new_file: Callable[[], None] | None = None,
) -> FileResult:
    relative = path.relative_to(landing_dir).as_posix()
    checksum = file_checksum(path)
    # the file's own history decides first: its latest version unchanged is skipped, and
    # any other content under its name is a new version of it (README, "Re-deliveries")
    latest = con.execute(
        "select file_checksum, rule from ingest.load_manifest where file_path = ? "
        "order by load_id desc limit 1",
        [relative],
    ).fetchone()
    if latest is not None and latest[0] == checksum:
        # a copy whose original was replaced since holds content no longer in raw: it loads
        if latest[1] != "same_content" or _loaded_elsewhere(con, checksum):
            return FileResult(contract.name, relative, checksum, "skipped")
    elif latest is None and (original := _loaded_elsewhere(con, checksum)):
        return _record_copy(con, contract, relative, checksum, path, batch_id, original)
    if on_new_file is not None:
        on_new_file()
    version = (
        con.execute(
            "select coalesce(max(file_version), 0) from ingest.load_manifest where file_path = ?",
            [relative],
        ).fetchone()[0]
        + 1
    )
    started: datetime = con.execute("select now()::timestamp").fetchone()[0]
    file = ManifestRow(
        load_id=0,
        batch_id=batch_id,
        source=contract.source,
        entity=contract.entity,
        file_path=relative,
        file_checksum=checksum,
        file_size=path.stat().st_size,
        file_version=version,
        file_format=file_format(path),
        status="loaded",
        rows_landed=None,
        rows_loaded=0,
        rows_quarantined=0,
        schema_drift=[],
        rule=None,
        error=None,
        started_at=started,
    )
    try:
        names, corrected = _read_and_check(con, contract, path, relative, window)
    except FileRejected as rejection:
        return _record_rejection(con, contract, file, rejection, path)

    drift = [n for n in names if n not in {c.name for c in contract.columns}]
    con.execute("begin transaction")
    try:
        file = replace(file, load_id=next_load_id(con))
        # a version with no good row (a header alone, every row quarantined) replaces
        # nothing: more likely a broken export than one that withdraws every key
        good = con.execute("select count(*) from _checked where _violation is null").fetchone()[0]
        replaced = (
            replace_earlier_versions(con, contract, file)
            if contract.redelivery == "replace" and good
            else 0
        )
        loaded, quarantined = _write_checked(con, contract, file)
        file = replace(
            file,
            rows_landed=loaded + quarantined,
            rows_loaded=loaded,
            rows_quarantined=quarantined,
            schema_drift=drift,
            rows_corrected=corrected,
            rows_replaced=replaced,
        )
        write_manifest_row(con, file)
        crash_point("ingest.before_commit")
        con.execute("commit")
    except BaseException as exc:
        # a failed commit (a full disk) has already ended the transaction: the error that
        # matters is the one that ended it, not the rollback's "no transaction is active"
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        if isinstance(exc, duckdb.Error) and "Could not write" in str(exc):
            raise WarehouseWriteFailed(
                f"{relative}: not loaded, nothing of it kept: writing the warehouse failed "
                f"({str(exc).splitlines()[0]}); run again once the disk has room"
            ) from exc
        raise
    if drift:
        log.warning("%s: schema drift, extra column(s) kept in _extra: %s", relative, drift)
    if quarantined:
        log.warning("%s: %s row(s) quarantined", relative, quarantined)
    if replaced:
        log.warning(
            "%s: version %s replaces %s row(s) of the earlier version(s) (kept in "
            "ingest.replaced_rows)",
            relative,
            file.file_version,
            replaced,
        )
    if corrected:
        log.info("%s: %s row(s) correct a version an earlier file loaded", relative, corrected)
    return FileResult(
        contract.name,
        relative,
        checksum,
        "loaded",
        loaded + quarantined,
        loaded,
        quarantined,
        drift,
        rows_corrected=corrected,
        rows_replaced=replaced,
    )


def replace_earlier_versions(
    con: duckdb.DuckDBPyConnection, contract: Contract, file: ManifestRow
) -> int:
    """Move the raw rows of the earlier versions of ``file`` (same name) to
    ``ingest.replaced_rows``, inside the load's transaction: the new version's rows take
    their place, and a key it no longer holds leaves the marts on the next build (which
    rebuilds from raw: ``orchestration/lib/build_state.full_refresh_reason``)."""
    contract_cols = [c.name for c in contract.columns]
    record = ", ".join(f"{sql_str(c)}, {ident(c)}" for c in [*contract_cols, "_extra"])
    replaced = con.execute(
        f"""
        insert into ingest.replaced_rows
        select ?, ?, ?, _source_file, _load_id, _row_number, json_object({record})::varchar,
               now()::timestamp
        from raw.{contract.name} where _source_file = ?
        """,
        [file.load_id, contract.source, contract.entity, file.file_path],
    ).fetchone()[0]
    con.execute(f"delete from raw.{contract.name} where _source_file = ?", [file.file_path])
    return replaced


def _loaded_elsewhere(con: duckdb.DuckDBPyConnection, checksum: str) -> str | None:
    """The first file loaded (or rejected) with this content, unless that version's rows
    were replaced since by a new version of it; copies recorded as such do not count."""
    row = con.execute(
        "select file_path from ingest.load_manifest where file_checksum = ? "
        "and status <> 'ignored' "
        "and load_id not in (select distinct replaced_load_id from ingest.replaced_rows) "
        "order by load_id limit 1",
        [checksum],
    ).fetchone()
    return None if row is None else row[0]


def _record_copy(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    relative: str,
    checksum: str,
    path: Path,
    batch_id: str,
    original: str,
) -> FileResult:
    """A file whose content was already loaded under another name: recorded once as
    ignored (rule ``same_content``), so a copy is neither loaded twice nor unaccounted."""
    message = f"{relative}: ignored, not loaded: same content as {original} (rule: same_content)"
    where = (contract.source, contract.entity)
    _record_unread(
        con, path, relative, checksum, batch_id, where, "ignored", "same_content", message
    )
    return FileResult(contract.name, relative, checksum, "ignored", error=message)


def count_landed_rows(path: Path) -> int:
    """Rows a file holds as far as it can be read, for a file rejected whole: data lines
    of a text file (after a CSV's header), a Parquet file's row count; 0 for what cannot
    be read at all. So a rejected file's manifest row still reconciles."""
    try:
        if file_format(path) == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        lines = 0
        with opener(path, "rb") as handle:
            try:
                for line in handle:
                    lines += bool(line.strip())
            except (EOFError, OSError):  # a truncated archive: count what it held
                pass
        return max(lines - (file_format(path) == "csv"), 0)
    except Exception:  # unreadable in any way: nothing could be counted
        return 0


def _record_rejection(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    file: ManifestRow,
    rejection: FileRejected,
    path: Path,
) -> FileResult:
    """A file rejected whole: every row it holds is held back (rows_quarantined), none
    loaded, so rows_landed = rows_loaded + rows_quarantined for every manifest row."""
    message = (
        f"{file.file_path}: rejected whole, nothing loaded: {rejection} (rule: {rejection.rule})"
    )
    log.error(message)
    landed = rejection.rows_landed if rejection.rows_landed is not None else count_landed_rows(path)
    write_manifest_row(
        con,
        replace(
            file,
            load_id=next_load_id(con),
            status="rejected",
            rows_landed=landed,
            rows_loaded=0,
            rows_quarantined=landed,
            rule=rejection.rule,
            error=message,
        ),
    )
    return FileResult(
        contract.name,
        file.file_path,
        file.file_checksum,
        "rejected",
        rows_landed=landed,
        error=message,
    )


def load_contract(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_dir: Path,
    batch_id: str,
    window: EventWindow = EventWindow(),
    on_new_file: Callable[[], None] | None = None,
) -> list[FileResult]:
    con.execute("set TimeZone = 'UTC'")
    ensure_warehouse_schema(con, [contract])
    return [
        load_file(con, contract, path, landing_dir, batch_id, window, on_new_file)
        for path in discover_files(landing_dir, contract)
    ]


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    batch_id: str,
    contracts: Iterable[Contract] | None = None,
    window: EventWindow = EventWindow(),
    on_new_file: Callable[[], None] | None = None,
) -> LoadReport:
    """Load every landed file for the given contracts (default: all) and report per file;
    event times outside ``window`` are quarantined. ``on_new_file`` is called before each
    file not loaded before is read (the caller may start work that only new data needs)."""
    contracts = list(contracts if contracts is not None else load_contracts())
    ensure_warehouse_schema(con, load_contracts())
    report = LoadReport()
    for contract in contracts:
        report.files.extend(
            load_contract(con, contract, Path(landing_dir), batch_id, window, on_new_file)
        )
    report.files.extend(record_unusable(con, Path(landing_dir), batch_id, load_contracts()))
    return report
