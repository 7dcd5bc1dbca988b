"""Readers: land one file in a temporary DuckDB table, every value as text.

Each reader creates ``_landed`` (the file's columns as VARCHAR plus ``_row_number``, the
physical line or row number) and ``_landed_rejects`` (structurally broken lines with their
number and DuckDB's message), and returns the lower-cased column names. A file that cannot
be used at all raises ``FileRejected`` naming the rule it broke.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import duckdb

from ingestion.formats import is_tab_separated
from ingestion.sql import file_path, ident, sql_str


class FileRejected(Exception):
    """The whole file is unusable; nothing of it is loaded."""

    def __init__(self, rule: str, message: str, rows_landed: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.rows_landed = rows_landed


def column_name(header: str, fallback: str) -> str:
    """The landed name of a header or JSON key: trimmed and lower-cased; an empty one (a
    trailing delimiter, a key ``""``) is named ``fallback``."""
    return header.strip().lower() or fallback


def _json_pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _compression(path: Path) -> str:
    """DuckDB's ``compression`` option, decided here: DuckDB goes by the suffix and only
    knows it in lower case, so ``EXPORT.CSV.GZ`` would be read as plain bytes."""
    return "'gzip'" if path.name.lower().endswith(".gz") else "'none'"


def _open_text(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    # utf-8-sig: a byte-order mark (Excel writes one) is not part of the first column name
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def _ends_with_newline(path: Path) -> bool:
    if path.name.lower().endswith(".gz"):
        return True  # a truncated gzip stream fails to decompress instead
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) in (b"\n", b"\r")


def check_gzip_complete(path: Path) -> None:
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
    except csv.Error as exc:  # a header field past the csv module's limit (128 KiB)
        raise FileRejected("readable", f"the header line cannot be read: {exc}") from exc
    if not header or all(not h.strip() for h in header):
        raise FileRejected("not_empty", "the file is empty (no header line)")
    return header


def land_csv(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Land a CSV as ``_landed`` (all text, plus ``_row_number`` = physical line number).

    Structural errors (too many or too few fields, unterminated quotes) become rows in
    ``_landed_rejects`` with their line number and DuckDB's message.
    """
    delimiter = "\t" if is_tab_separated(path) else ","
    header = _read_csv_header(path, delimiter)
    names = [column_name(h, f"unnamed_{i + 1}") for i, h in enumerate(header)]
    columns = "{" + ", ".join(f"{sql_str(f'c{i}')}: 'VARCHAR'" for i in range(len(names))) + "}"
    for table in ("_parsed", "_rejects", "_reject_scans", "_landed", "_landed_rejects"):
        con.execute(f"drop table if exists {table}")
    try:
        con.execute(
            f"""
            create temp table _parsed as
            select * from read_csv({file_path(path)},
                header = true, auto_detect = false, columns = {columns},
                delim = {sql_str(delimiter)}, quote = '"', escape = '"',
                compression = {_compression(path)},
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
    unclosed = con.execute(
        "select min(line) from _rejects where error_message ilike '%unterminated quote%'"
    ).fetchone()[0]
    if unclosed is not None:
        # the quote runs to the end of the file and swallows every line after it: which
        # of them are records cannot be told, so none is loaded rather than some lost
        raise FileRejected(
            "balanced_quotes",
            f"line {unclosed} opens a quote that is never closed, so the lines after it "
            "cannot be read as records",
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
    select_cols = ", ".join(f"p.c{i} as {ident(n)}" for i, n in enumerate(names))
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
    # a column without a header name and without a value is a trailing delimiter (a
    # common export quirk), not data: it goes; one holding values stays, as unnamed_<n>
    for position, (name, original) in enumerate(zip(names, header, strict=True)):
        if not original.strip() and not _has_values(con, name):
            con.execute(f"alter table _landed drop column {ident(name)}")
            names[position] = ""
    return [name for name in names if name]


def _has_values(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    return (
        con.execute(f"select count(*) from _landed where trim({ident(column)}) <> ''").fetchone()[0]
        > 0
    )


def land_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
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
            from read_csv({file_path(path)}, header = false, auto_detect = false,
                 columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '',
                 compression = {_compression(path)},
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
    if con.execute(
        "select count(*) filter (where case when json_valid(line) then json_type(line) end = 'OBJECT') = 0 "
        "and bool_or(_row_number = 1 and ltrim(line) like '[%') from _lines"
    ).fetchone()[0]:
        raise FileRejected(
            "json_lines",
            "the file is a JSON array, not JSON Lines (one object per line)",
            rows_landed=total,
        )
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
    # keys are matched case-insensitively across lines (a feed that changed its casing),
    # but one object holding two keys that differ only by case is ambiguous: which value
    # is meant cannot be known, so that line is quarantined rather than one value winning
    con.execute(
        """
        insert into _landed_rejects
        select _row_number, 'AMBIGUOUS KEYS',
               'the line holds keys that differ only by case ('
               || array_to_string(list_sort(list_filter(json_keys(line), k -> len(list_filter(
                      json_keys(line), j -> lower(trim(j)) = lower(trim(k)))) > 1)), ', ')
               || '): which one is meant is ambiguous',
               line
        from _lines
        where json_valid(line) and json_type(line) = 'OBJECT'
          and len(json_keys(line))
              <> len(list_distinct(list_transform(json_keys(line), k -> lower(trim(k)))))
        """
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
        by_lower.setdefault(column_name(key, "unnamed"), []).append(key)
    # JSON Pointer paths (RFC 6901), not JSONPath: a key may hold quotes, dots or nothing
    select_cols = ", ".join(
        "coalesce("
        + ", ".join(f"json_extract_string(line, {sql_str(_json_pointer(k))})" for k in originals)
        + f") as {ident(lower)}"
        for lower, originals in by_lower.items()
    )
    con.execute(
        f"""
        create temp table _landed as
        select {select_cols + "," if select_cols else ""} _row_number
        from _lines
        where json_valid(line) and json_type(line) = 'OBJECT'
          and _row_number not in (select _row_number from _landed_rejects)
        order by _row_number
        """
    )
    return list(by_lower)


def land_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    for table in ("_landed", "_landed_rejects"):
        con.execute(f"drop table if exists {table}")
    try:
        described = con.execute(
            f"describe select * from read_parquet({file_path(path)})"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected("readable", f"the file is not a readable Parquet file: {exc}") from exc
    originals = [row[0] for row in described]
    names = [n.strip().lower() for n in originals]
    select_cols = ", ".join(
        f"cast({ident(o)} as varchar) as {ident(n)}" for o, n in zip(originals, names, strict=True)
    )
    try:
        con.execute(
            f"""
            create temp table _landed as
            select {select_cols}, file_row_number + 1 as _row_number
            from read_parquet({file_path(path)}, file_row_number = true)
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


# format (ingestion.formats) -> reader
READERS = {"csv": land_csv, "jsonl": land_jsonl, "parquet": land_parquet}
