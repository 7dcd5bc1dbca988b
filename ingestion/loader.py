"""Contract-checked, idempotent loading of landed files into the warehouse's ``raw`` schema.

Every file under ``<landing>/<source>/<entity>/`` goes through the same steps:

1. checksum: a file whose bytes were already loaded (any name) is skipped;
2. read with DuckDB's own readers, every value as text, each row keeping its line number;
3. file-level checks (empty, undecodable, truncated, missing required column): the whole
   file is rejected and nothing of it loads;
4. row-level checks in one SQL pass (not null, type, accepted values, range, row rules,
   duplicate key within the file): failing rows go to ``ingest.quarantine`` with file,
   line, column, rule and reason; the rest are cast to the contract types;
5. one transaction writes the good rows to ``raw.<source>__<entity>``, the bad rows to
   the quarantine and the file to ``ingest.load_manifest``. A crash before the commit
   leaves no trace, so a rerun loads the file exactly once.

Raw tables are append-only history: corrections (same key, newer cursor) are resolved in
dbt staging, never by updating raw.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.contracts import Column, Contract, load_contracts

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
PARQUET_SUFFIXES = (".parquet",)
LOAD_METADATA_COLUMNS = {
    "_extra": "JSON",
    "_load_id": "BIGINT",
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_file_checksum": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
}
# Failure injection for crash-recovery tests: the process exits hard at the named point.
CRASH_POINT_ENV = "C360_CRASH_AT"


class FileRejected(Exception):
    """The whole file is unusable; nothing of it is loaded."""

    def __init__(self, rule: str, message: str, rows_landed: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.rows_landed = rows_landed


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
        }


# --------------------------------------------------------------------------- schema


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
    for contract in contracts:
        columns = {c.name: c.duckdb_type for c in contract.columns} | LOAD_METADATA_COLUMNS
        table = f"raw.{contract.name}"
        ddl = ", ".join(f'"{name}" {type_}' for name, type_ in columns.items())
        con.execute(f"create table if not exists {table} ({ddl})")
        existing = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [contract.name],
            ).fetchall()
        }
        for name, type_ in columns.items():
            if name not in existing:
                con.execute(f'alter table {table} add column "{name}" {type_}')


# --------------------------------------------------------------------------- discovery


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def discover_files(landing_dir: Path, contract: Contract) -> list[Path]:
    """Landed files for a contract, in name order (which is delivery order by convention)."""
    folder = landing_dir / contract.landing_subdir
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and file_format(p)
    )


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_text(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8", newline="")


def _ends_with_newline(path: Path) -> bool:
    if path.name.lower().endswith(".gz"):
        return True  # a truncated gzip stream fails to decompress instead
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) in (b"\n", b"\r")


def _check_gzip_complete(path: Path) -> None:
    """Decompress the whole stream once: DuckDB reads a gzip cut short without complaint."""
    if not path.name.lower().endswith(".gz"):
        return
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 22):
                pass
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise FileRejected("complete", f"the gzip stream is truncated or corrupt: {exc}") from exc


def _read_csv_header(path: Path, delimiter: str) -> list[str]:
    import csv

    try:
        with _open_text(path) as handle:
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except UnicodeDecodeError as exc:
        raise FileRejected("decodable", f"the file is not valid UTF-8 ({exc.reason})") from exc
    except (OSError, EOFError) as exc:
        raise FileRejected("readable", f"the file cannot be read: {exc}") from exc
    if not header or all(not h.strip() for h in header):
        raise FileRejected("not_empty", "the file is empty (no header line)")
    return header


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Land a CSV as ``_landed`` (all text, plus ``_row_number`` = physical line number).

    Structural errors (too many or too few fields, unterminated quotes) become rows in
    ``_landed_rejects`` with their line number and DuckDB's message.
    """
    delimiter = "\t" if ".tsv" in path.name.lower() else ","
    header = _read_csv_header(path, delimiter)
    names = [h.strip().lower() for h in header]
    columns = "{" + ", ".join(f"{_sql_str(f'c{i}')}: 'VARCHAR'" for i in range(len(names))) + "}"
    for table in ("_parsed", "_rejects", "_reject_scans", "_landed", "_landed_rejects"):
        con.execute(f"drop table if exists {table}")
    try:
        con.execute(
            f"""
            create temp table _parsed as
            select * from read_csv({_sql_str(str(path))},
                header = true, auto_detect = false, columns = {columns},
                delim = {_sql_str(delimiter)}, quote = '"', escape = '"',
                strict_mode = true, store_rejects = true,
                rejects_table = '_rejects', rejects_scan = '_reject_scans')
            """
        )
    except duckdb.Error as exc:
        raise FileRejected("readable", f"the file cannot be parsed as CSV: {exc}") from exc
    encoding_errors = con.execute(
        "select min(line) from _rejects where error_type = 'INVALID ENCODING'"
    ).fetchone()[0]
    if encoding_errors is not None:
        raise FileRejected(
            "decodable", f"the file is not valid UTF-8 (first bad bytes on line {encoding_errors})"
        )
    accepted = con.execute("select count(*) from _parsed").fetchone()[0]
    con.execute(
        """
        create temp table _landed_rejects as
        select line as _row_number, string_agg(distinct error_type, '; ') as error_type,
               first(error_message) as error_message, first(csv_line) as record
        from _rejects group by line
        """
    )
    rejected = con.execute("select count(*) from _landed_rejects").fetchone()[0]
    last_line = accepted + rejected + 1
    if (
        rejected
        and not _ends_with_newline(path)
        and con.execute("select max(_row_number) from _landed_rejects").fetchone()[0] == last_line
    ):
        raise FileRejected(
            "complete",
            f"the file is truncated: line {last_line} is cut off and the file does not end "
            "with a newline",
            rows_landed=accepted + rejected,
        )
    # _parsed keeps file order (DuckDB preserves insertion order), so its rowid is the
    # ordinal of the accepted record; pair it with the line numbers that were not rejected.
    select_cols = ", ".join(f"p.c{i} as {_ident(n)}" for i, n in enumerate(names))
    con.execute(
        f"""
        create temp table _landed as
        with accepted_lines as (
            select line, row_number() over (order by line) - 1 as ordinal
            from range(2, {last_line + 1}) as t(line)
            anti join _landed_rejects r on r._row_number = t.line
        )
        select {select_cols}, a.line as _row_number
        from (select rowid as ordinal, * from _parsed) as p
        join accepted_lines as a using (ordinal)
        """
    )
    return names


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Land JSON Lines as ``_landed``: keys matched case-insensitively, values as text."""
    for table in ("_lines", "_landed", "_landed_rejects"):
        con.execute(f"drop table if exists {table}")
    try:
        with _open_text(path) as handle:
            handle.read(1 << 16)
    except UnicodeDecodeError as exc:
        raise FileRejected("decodable", f"the file is not valid UTF-8 ({exc.reason})") from exc
    except (OSError, EOFError) as exc:
        raise FileRejected("readable", f"the file cannot be read: {exc}") from exc
    try:
        # One text column per physical line: \x1f cannot appear unescaped in valid JSON.
        con.execute(
            f"""
            create temp table _lines as
            select row_number() over () as _row_number, line
            from read_csv({_sql_str(str(path))}, header = false, auto_detect = false,
                 columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '',
                 strict_mode = false, ignore_errors = false)
            """
        )
    except duckdb.Error as exc:
        message = str(exc)
        if "unicode" in message.lower() or "utf-8" in message.lower():
            raise FileRejected("decodable", f"the file is not valid UTF-8: {exc}") from exc
        raise FileRejected("readable", f"the file cannot be read as JSON Lines: {exc}") from exc
    con.execute("delete from _lines where line is null or trim(line) = ''")
    total = con.execute("select count(*) from _lines").fetchone()[0]
    if total == 0:
        raise FileRejected("not_empty", "the file is empty (no JSON lines)")
    con.execute(
        """
        create temp table _landed_rejects as
        select _row_number, 'INVALID JSON' as error_type,
               case when json_valid(line) then 'the line is JSON but not an object'
                    else 'the line is not valid JSON' end as error_message,
               line as record
        from _lines
        where not json_valid(line) or json_type(line) <> 'OBJECT'
        """
    )
    last = con.execute("select max(_row_number) from _lines").fetchone()[0]
    last_bad = con.execute("select max(_row_number) from _landed_rejects").fetchone()[0]
    if last_bad == last and not _ends_with_newline(path):
        raise FileRejected(
            "complete",
            f"the file is truncated: line {last} is cut off and the file does not end with a "
            "newline",
            rows_landed=total,
        )
    keys = [
        row[0]
        for row in con.execute(
            """
            select distinct unnest(json_keys(line)) as key from _lines
            where json_valid(line) and json_type(line) = 'OBJECT' order by key
            """
        ).fetchall()
    ]
    by_lower: dict[str, list[str]] = {}
    for key in keys:
        by_lower.setdefault(key.strip().lower(), []).append(key)
    select_cols = ", ".join(
        "coalesce("
        + ", ".join(f"json_extract_string(line, {_sql_str('$.' + _ident(k))})" for k in originals)
        + f") as {_ident(lower)}"
        for lower, originals in by_lower.items()
    )
    con.execute(
        f"""
        create temp table _landed as
        select {select_cols + "," if select_cols else ""} _row_number
        from _lines
        where json_valid(line) and json_type(line) = 'OBJECT'
        order by _row_number
        """
    )
    return list(by_lower)


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    for table in ("_landed", "_landed_rejects"):
        con.execute(f"drop table if exists {table}")
    try:
        described = con.execute(
            f"describe select * from read_parquet({_sql_str(str(path))})"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected("readable", f"the file is not a readable Parquet file: {exc}") from exc
    originals = [row[0] for row in described]
    names = [n.strip().lower() for n in originals]
    select_cols = ", ".join(
        f"cast({_ident(o)} as varchar) as {_ident(n)}"
        for o, n in zip(originals, names, strict=True)
    )
    try:
        con.execute(
            f"""
            create temp table _landed as
            select {select_cols}, file_row_number + 1 as _row_number
            from read_parquet({_sql_str(str(path))}, file_row_number = true)
            order by _row_number
            """
        )
    except duckdb.Error as exc:
        raise FileRejected("complete", f"the Parquet file cannot be read whole: {exc}") from exc
    con.execute(
        "create temp table _landed_rejects (_row_number bigint, error_type varchar, "
        "error_message varchar, record varchar)"
    )
    return names


STAGERS = {"csv": _stage_csv, "jsonl": _stage_jsonl, "parquet": _stage_parquet}


# --------------------------------------------------------------------------- validation


def _typed_expr(column: Column, value: str) -> str:
    if column.type == "varchar":
        return value
    if column.type == "timestamp":
        # Offsets are honoured (session time zone is UTC); naive values are taken as UTC.
        return f"(try_cast({value} as timestamptz) at time zone 'UTC')"
    return f"try_cast({value} as {column.duckdb_type})"


def _violation_cases(contract: Contract) -> list[tuple[str, str, str, str]]:
    """(failure condition, column, rule, reason expression) in the order they are checked."""
    cases: list[tuple[str, str, str, str]] = []
    for c in contract.columns:
        v = f"v__{c.name}"
        t = f"t__{c.name}"
        if not c.nullable:
            cases.append((f"{v} is null", c.name, "not_null", _sql_str(f"{c.name} is empty")))
        if c.type != "varchar":
            cases.append(
                (
                    f"{v} is not null and {t} is null",
                    c.name,
                    "type",
                    f"format('value ''{{}}'' is not a valid {c.type}', {v})",
                )
            )
        if c.accepted_values:
            allowed = ", ".join(_sql_str(a) for a in c.accepted_values)
            cases.append(
                (
                    f"{t} is not null and {t} not in ({allowed})",
                    c.name,
                    "accepted_values",
                    f"format('value ''{{}}'' is not one of {', '.join(c.accepted_values)}', {v})",
                )
            )
        if c.min is not None:
            cases.append(
                (
                    f"{t} < {c.min}",
                    c.name,
                    "range",
                    f"format('value ''{{}}'' is below the minimum {c.min:g}', {v})",
                )
            )
        if c.max is not None:
            cases.append(
                (
                    f"{t} > {c.max}",
                    c.name,
                    "range",
                    f"format('value ''{{}}'' is above the maximum {c.max:g}', {v})",
                )
            )
    return cases


def _validate(con: duckdb.DuckDBPyConnection, contract: Contract, names: Sequence[str]) -> None:
    """Build ``_checked``: typed contract columns, extra columns as JSON, first violation."""
    present = set(names)
    values = []
    for c in contract.columns:
        raw = f"nullif(trim({_ident(c.name)}), '')" if c.name in present else "null::varchar"
        if c.accepted_values:
            raw = f"lower({raw})"
        if c.default is not None:
            raw = f"coalesce({raw}, {_sql_str(c.default)})"
        values.append(f"{raw} as v__{c.name}")
    extra = [n for n in names if n not in {c.name for c in contract.columns}]
    extra_json = (
        "json_object(" + ", ".join(f"{_sql_str(n)}, {_ident(n)}" for n in extra) + ")"
        if extra
        else "null::json"
    )
    record_json = "json_object(" + ", ".join(f"{_sql_str(n)}, {_ident(n)}" for n in names) + ")"
    typed = [f"{_typed_expr(c, f'v__{c.name}')} as t__{c.name}" for c in contract.columns]
    cases = _violation_cases(contract)
    # Row rules see the typed row under the contract's column names.
    rule_scope = ", ".join(f"t__{c.name} as {_ident(c.name)}" for c in contract.columns)
    for rule in contract.row_rules:
        cases.append(
            (
                f"coalesce(({rule.fails_when}), false)",
                rule.column,
                rule.name,
                _sql_str(rule.description),
            )
        )
    violation = (
        "case "
        + " ".join(
            f"when {cond} then struct_pack(column_name := {_sql_str(col)}, rule := {_sql_str(rule)},"
            f" reason := {reason})"
            for cond, col, rule, reason in cases
        )
        + " end"
        if cases
        else "null"
    )
    con.execute("drop table if exists _typed")
    con.execute("drop table if exists _checked")
    con.execute(
        f"""
        create temp table _typed as
        with landed as (
            select _row_number, {", ".join(values)}, {extra_json} as _extra,
                   {record_json} as _record
            from _landed
        ),
        typed as (select *, {", ".join(typed)} from landed),
        scoped as (select *, {rule_scope} from typed)
        select _row_number, _extra, _record,
               {", ".join(f"t__{c.name}" for c in contract.columns)},
               {violation} as _violation
        from scoped
        """
    )
    key = [f"t__{k}" for k in contract.primary_key]
    if contract.cursor:
        key.append(f"t__{contract.cursor}")
    con.execute(
        f"""
        create temp table _checked as
        with ranked as (
            select *,
                   case when _violation is null then
                       first_value(_row_number) over (
                           partition by _violation is null, {", ".join(key)}
                           order by _row_number)
                   end as _first_line
            from _typed
        )
        select * exclude (_violation, _first_line),
               coalesce(_violation, case when _first_line < _row_number then struct_pack(
                   column_name := {_sql_str(contract.primary_key[0])},
                   rule := 'duplicate_key',
                   reason := format('duplicate of line {{}} (same {", ".join(key).replace("t__", "")})',
                                    _first_line)) end) as _violation
        from ranked
        """
    )


# --------------------------------------------------------------------------- loading


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_POINT_ENV) == name:
        log.error("simulated crash at %s", name)
        os._exit(86)


def load_file(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    path: Path,
    landing_dir: Path,
    batch_id: str,
) -> FileResult:
    relative = path.relative_to(landing_dir).as_posix()
    checksum = file_checksum(path)
    seen = con.execute(
        "select status from ingest.load_manifest where file_checksum = ? limit 1", [checksum]
    ).fetchone()
    if seen:
        return FileResult(contract.name, relative, checksum, "skipped")
    version = (
        con.execute(
            "select count(distinct file_checksum) from ingest.load_manifest where file_path = ?",
            [relative],
        ).fetchone()[0]
        + 1
    )
    fmt = file_format(path)
    started = con.execute("select now()::timestamp").fetchone()[0]
    try:
        if path.stat().st_size == 0:
            raise FileRejected("not_empty", "the file is empty (0 bytes)", rows_landed=0)
        _check_gzip_complete(path)
        names = STAGERS[fmt](con, path)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise FileRejected(
                "unique_columns", f"column(s) {', '.join(duplicates)} appear more than once"
            )
        missing = [c for c in contract.required_columns if c not in names]
        if missing:
            raise FileRejected(
                "required_column",
                f"missing required column(s) {', '.join(missing)}; "
                f"the file has {', '.join(names) or 'no columns'}",
                rows_landed=con.execute("select count(*) from _landed").fetchone()[0],
            )
        _validate(con, contract, names)
    except FileRejected as rejection:
        return _record_rejection(
            con, contract, relative, checksum, path, version, fmt, batch_id, started, rejection
        )

    drift = [n for n in names if n not in {c.name for c in contract.columns}]
    contract_cols = [c.name for c in contract.columns]
    insert_cols = ", ".join(_ident(c) for c in contract_cols)
    con.execute("begin transaction")
    try:
        load_id = con.execute("select nextval('ingest.load_id_seq')").fetchone()[0]
        con.execute(
            f"""
            insert into raw.{contract.name} ({insert_cols}, _extra, _load_id, _batch_id,
                _source_file, _file_checksum, _row_number, _loaded_at)
            select {", ".join(f"t__{c}" for c in contract_cols)}, _extra, ?, ?, ?, ?,
                   _row_number, ?
            from _checked where _violation is null order by _row_number
            """,
            [load_id, batch_id, relative, checksum, started],
        )
        _crash_point("ingest.after_raw_insert")
        con.execute(
            """
            insert into ingest.quarantine
            select ?, ?, ?, ?, ?, _row_number, _violation.column_name, _violation.rule,
                   _violation.reason, _record::varchar, ?
            from _checked where _violation is not null
            union all
            select ?, ?, ?, ?, ?, _row_number, null, 'well_formed_line',
                   error_type || ': ' || error_message, record, ?
            from _landed_rejects
            """,
            [load_id, batch_id, contract.source, contract.entity, relative, started] * 2,
        )
        counts = con.execute(
            """
            select count(*) filter (where _violation is null),
                   count(*) filter (where _violation is not null)
                   + (select count(*) from _landed_rejects)
            from _checked
            """
        ).fetchone()
        loaded, quarantined = counts
        con.execute(
            """
            insert into ingest.load_manifest values
                (?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?, ?, null, null, ?, now()::timestamp)
            """,
            [
                load_id,
                batch_id,
                contract.source,
                contract.entity,
                relative,
                checksum,
                path.stat().st_size,
                version,
                fmt,
                loaded + quarantined,
                loaded,
                quarantined,
                drift,
                started,
            ],
        )
        _crash_point("ingest.before_commit")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    if drift:
        log.warning("%s: schema drift, extra column(s) kept in _extra: %s", relative, drift)
    if quarantined:
        log.warning("%s: %s row(s) quarantined", relative, quarantined)
    return FileResult(
        contract.name,
        relative,
        checksum,
        "loaded",
        loaded + quarantined,
        loaded,
        quarantined,
        drift,
    )


def _record_rejection(
    con, contract, relative, checksum, path, version, fmt, batch_id, started, rejection
) -> FileResult:
    message = f"{relative}: rejected whole, nothing loaded: {rejection} (rule: {rejection.rule})"
    log.error(message)
    load_id = con.execute("select nextval('ingest.load_id_seq')").fetchone()[0]
    con.execute(
        """
        insert into ingest.load_manifest values
            (?, ?, ?, ?, ?, ?, ?, ?, ?, 'rejected', ?, 0, 0, [], ?, ?, ?, now()::timestamp)
        """,
        [
            load_id,
            batch_id,
            contract.source,
            contract.entity,
            relative,
            checksum,
            path.stat().st_size,
            version,
            fmt,
            rejection.rows_landed,
            rejection.rule,
            message,
            started,
        ],
    )
    return FileResult(
        contract.name,
        relative,
        checksum,
        "rejected",
        rows_landed=rejection.rows_landed or 0,
        error=message,
    )


def load_contract(
    con: duckdb.DuckDBPyConnection, contract: Contract, landing_dir: Path, batch_id: str
) -> list[FileResult]:
    con.execute("set TimeZone = 'UTC'")
    ensure_warehouse_schema(con, [contract])
    return [
        load_file(con, contract, path, landing_dir, batch_id)
        for path in discover_files(landing_dir, contract)
    ]


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    batch_id: str,
    contracts: Iterable[Contract] | None = None,
) -> LoadReport:
    """Load every landed file for the given contracts (default: all) and report per file."""
    contracts = list(contracts if contracts is not None else load_contracts())
    ensure_warehouse_schema(con, load_contracts())
    report = LoadReport()
    for contract in contracts:
        report.files.extend(load_contract(con, contract, Path(landing_dir), batch_id))
    return report
