"""Readers: land one file in a temporary DuckDB table, every value as text.

Each reader creates ``_landed`` (the file's columns as VARCHAR plus ``_row_number``, the
physical line or row number) and ``_landed_rejects`` (structurally broken lines with their
number and DuckDB's message), and returns the lower-cased column names. A file that cannot
be used at all raises ``FileRejected`` naming the rule it broke.
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.formats import is_tab_separated
from ingestion.sql import file_path, ident, sql_str

# what a message about an undeclared encoding or delimiter tells the user to do
DECLARE = (
    "; declare the file's encoding (utf-16, latin-1) or delimiter in its entity's contract "
    "(ingestion/<source>/contracts/<entity>.yml: encoding, delimiter)"
)


class FileRejected(Exception):
    """The whole file is unusable; nothing of it is loaded."""

    def __init__(self, rule: str, message: str, rows_landed: int | None = None):
        super().__init__(message)
        self.rule = rule
        self.rows_landed = rows_landed


# The landed tables' own column: the physical line (or row) each record came from.
LINE_COLUMN = "_row_number"


def column_name(header: str, fallback: str) -> str:
    """The landed name of a header or JSON key: trimmed and lower-cased; an empty one (a
    trailing delimiter, a key ``""``) is named ``fallback``; one named like the loader's
    line column is landed as ``<name>_in_file`` (kept in ``_extra``), so the line number
    stays the loader's."""
    name = header.strip().lower() or fallback
    return f"{name}_in_file" if name == LINE_COLUMN else name


def _json_pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _compression(path: Path) -> str:
    """DuckDB's ``compression`` option, decided here: DuckDB goes by the suffix and only
    knows it in lower case, so ``EXPORT.CSV.GZ`` would be read as plain bytes."""
    return "'gzip'" if path.name.lower().endswith(".gz") else "'none'"


@dataclass(frozen=True)
class TextFormat:
    """How a text file is written, as its contract declares it (``encoding``,
    ``delimiter``): UTF-8 and commas (tabs for ``.tsv``) unless it says otherwise."""

    encoding: str = "utf-8"
    delimiter: str | None = None

    def delimiter_of(self, path: Path) -> str:
        return self.delimiter or ("\t" if is_tab_separated(path) else ",")


# DuckDB's name of an encoding -> Python's codec; utf-8-sig: a byte-order mark (Excel
# writes one) is not part of the first column name
PYTHON_CODECS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "latin-1": "latin-1"}


def _open_text(path: Path, errors: str = "strict", encoding: str = "utf-8"):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding=PYTHON_CODECS[encoding], errors=errors, newline="")


def _ends_with_newline(path: Path, encoding: str = "utf-8") -> bool:
    if path.name.lower().endswith(".gz"):
        return True  # a truncated gzip stream fails to decompress instead
    width = 2 if encoding == "utf-16" else 1
    with path.open("rb") as handle:
        handle.seek(-width, os.SEEK_END)
        return handle.read(width).replace(b"\x00", b"") in (b"\n", b"\r")


def count_physical_lines(path: Path) -> int:
    """Lines as an editor counts them (a last line without a newline counts too), from one
    pass over the bytes. A gzip stream is decompressed whole on the way, since DuckDB reads
    one cut short without complaint: a truncated or corrupt one rejects the file."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines, last = 0, b"\n"
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise FileRejected("complete", f"the gzip stream is truncated or corrupt: {exc}") from exc
    except OSError as exc:
        raise FileRejected("readable", f"the file cannot be read: {exc}") from exc
    return lines + (last != b"\n")


def _read_csv_header(path: Path, delimiter: str, encoding: str = "utf-8") -> list[str]:
    try:
        # invalid bytes further down are DuckDB's to find, line by line: only the header's
        # own are fatal (Python decodes ahead in blocks, so strict decoding would reject
        # the file for a bad byte on line 100)
        with _open_text(path, errors="replace", encoding=encoding) as handle:
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except (OSError, EOFError) as exc:
        raise FileRejected("readable", f"the file cannot be read: {exc}") from exc
    except csv.Error as exc:  # a header field past the csv module's limit (128 KiB)
        raise FileRejected("readable", f"the header line cannot be read: {exc}") from exc
    if header and any("\ufffd" in h for h in header):
        raise FileRejected("decodable", f"the header line is not valid {encoding.upper()}{DECLARE}")
    if not header or all(not h.strip() for h in header):
        raise FileRejected("not_empty", "the file is empty (no header line)")
    return header


def _record_lines(
    path: Path, delimiter: str, encoding: str = "utf-8"
) -> tuple[list[int], list[int]]:
    """For each record after the header, DuckDB's line number (records and blank lines
    counted, a quoted line break not) and the physical line it starts on."""
    reader_lines: list[int] = []
    physical_lines: list[int] = []
    # a long quoted value is a value here, not an error (the limit is process-wide, so
    # it is restored: the header reader relies on it)
    limit = csv.field_size_limit(2**31 - 1)
    try:
        with _open_text(path, errors="replace", encoding=encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            reader_line, previous = 0, 0
            try:
                for reader_line, row in enumerate(reader, start=1):  # noqa: B007
                    if row and reader_line > 1:
                        reader_lines.append(reader_line)
                        physical_lines.append(previous + 1)
                    previous = reader.line_num
            except csv.Error:  # a quote left open at the end: that record is the last
                reader_lines.append(reader_line + 1)
                physical_lines.append(previous + 1)
    finally:
        csv.field_size_limit(limit)
    return reader_lines, physical_lines


def land_csv(
    con: duckdb.DuckDBPyConnection, path: Path, text: TextFormat = TextFormat()
) -> list[str]:
    """Land a CSV as ``_landed`` (all text, plus ``_row_number`` = physical line number).

    Structural errors (too many or too few fields, unterminated quotes) become rows in
    ``_landed_rejects`` with their line number and DuckDB's message.
    """
    delimiter = text.delimiter_of(path)
    physical_line_count = count_physical_lines(path)
    header = _read_csv_header(path, delimiter, text.encoding)
    names = [column_name(h, f"unnamed_{i + 1}") for i, h in enumerate(header)]
    columns = "{" + ", ".join(f"{sql_str(f'c{i}')}: 'VARCHAR'" for i in range(len(names))) + "}"
    for table in (
        "_parsed",
        "_rejects",
        "_reject_scans",
        "_rejected_lines",
        "_landed",
        "_landed_rejects",
        "_landed_nested",
    ):
        con.execute(f"drop table if exists {table}")
    try:
        con.execute(
            f"""
            create temp table _parsed as
            select * from read_csv({file_path(path)},
                header = true, auto_detect = false, columns = {columns},
                delim = {sql_str(delimiter)}, quote = '"', escape = '"',
                compression = {_compression(path)}, encoding = {sql_str(text.encoding)},
                max_line_size = {MAX_LINE_BYTES}, strict_mode = true, store_rejects = true,
                rejects_table = '_rejects', rejects_scan = '_reject_scans')
            """
        )
    except duckdb.Error as exc:
        raise FileRejected("readable", f"the file cannot be parsed as CSV: {exc}") from exc
    accepted = con.execute("select count(*) from _parsed").fetchone()[0]
    rejected = con.execute("select count(distinct line) from _rejects").fetchone()[0]
    records = accepted + rejected
    _map_record_lines(con, path, text, records, physical_line_count)
    # each broken line at the physical line it starts on (DuckDB's own count otherwise)
    con.execute(
        """
        create temp table _rejected_lines as
        select rejected.line as reader_line, coalesce(lines.line, rejected.line) as line,
               error_type, error_message, record
        from (
            select line, string_agg(distinct error_type, '; ') as error_type,
                   first(error_message) as error_message, first(csv_line) as record
            from _rejects group by line
        ) as rejected
        left join _record_lines as lines on rejected.line = lines.reader_line
        """
    )
    _check_encoding(con, records, text.encoding)
    _check_unclosed_quote(con)
    last_record, last_line = con.execute(
        "select reader_line, line from _record_lines order by reader_line desc limit 1"
    ).fetchone() or (records + 1, records + 1)
    if (
        rejected
        and not _ends_with_newline(path, text.encoding)
        and con.execute("select max(reader_line) from _rejected_lines").fetchone()[0] == last_record
    ):
        raise FileRejected(
            "complete",
            f"the file is truncated: line {last_line} is cut off and the file does not end "
            "with a newline",
            rows_landed=records,
        )
    con.execute(
        "create temp table _landed_rejects as "
        "select line as _row_number, error_type, error_message, record from _rejected_lines"
    )
    # _parsed keeps file order (DuckDB preserves insertion order), so its rowid is the
    # ordinal of the accepted record; pair it with the records that were not rejected.
    select_cols = ", ".join(f"p.c{i} as {ident(n)}" for i, n in enumerate(names))
    con.execute(
        f"""
        create temp table _landed as
        with accepted_lines as (
            select line, row_number() over (order by reader_line) - 1 as ordinal
            from _record_lines
            anti join _rejected_lines as rejected
                on rejected.reader_line = _record_lines.reader_line
        )
        select {select_cols}, a.line as _row_number
        from (select rowid as ordinal, * from _parsed) as p
        join accepted_lines as a using (ordinal)
        """
    )
    _hold_back_repeated_headers(con, names, header, delimiter)
    con.execute("create temp table _landed_nested (_row_number bigint, column_name varchar)")
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


# DuckDB's CSV reader holds back a line longer than this (its default max_line_size); the
# JSON Lines reader reads lines up to MAX_READ_LINE_BYTES and holds those back the same way.
MAX_LINE_BYTES = 2_000_000
MAX_READ_LINE_BYTES = 64 << 20

# More lines than this share of a file's records not being UTF-8 means the file is in
# another encoding, not that a few lines were damaged: then it is rejected whole.
MAX_UNDECODABLE_SHARE = 0.01


def _check_encoding(con: duckdb.DuckDBPyConnection, records: int, encoding: str) -> None:
    """Lines with invalid UTF-8 are quarantined like any broken line when they are
    isolated; a file where they are common is rejected, since it is in another encoding."""
    bad, first = con.execute(
        "select count(*), min(line) from _rejected_lines where error_type like '%INVALID ENCODING%'"
    ).fetchone()
    if bad and bad > records * MAX_UNDECODABLE_SHARE:
        raise FileRejected(
            "decodable",
            f"the file is not valid {encoding.upper()}: {bad} of {records} lines hold invalid "
            f"bytes (first on line {first}), so it is in another encoding{DECLARE}",
        )


def _check_unclosed_quote(con: duckdb.DuckDBPyConnection) -> None:
    """A quote left open runs to the end of the file: when only blank lines follow, that one
    line is quarantined; otherwise the records swallowed by it cannot be told apart, and
    the file is rejected rather than some of them lost."""
    unclosed = con.execute(
        "select line, record from _rejected_lines where error_message ilike '%unterminated quote%' "
        "order by line limit 1"
    ).fetchone()
    if unclosed is None:
        return
    line, record = unclosed
    swallowed = sum(1 for text in (record or "").splitlines()[1:] if text.strip())
    if swallowed:
        raise FileRejected(
            "balanced_quotes",
            f"line {line} opens a quote that is never closed, so the {swallowed} line(s) "
            "after it cannot be read as records",
        )


def _map_record_lines(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    text: TextFormat,
    records: int,
    physical_line_count: int,
) -> None:
    """``_record_lines``: each record's line in DuckDB's count (``reader_line``) and the
    physical line it starts on (``line``). DuckDB counts blank lines but not the line
    breaks inside a quoted value, so the two differ after either; only then is the file
    read again to pair them."""
    con.execute("drop table if exists _record_lines")
    if physical_line_count == records + 1:
        con.execute(
            f"create temp table _record_lines as "
            f"select range as reader_line, range as line from range(2, {records + 2})"
        )
        return
    reader_lines, physical_lines = _record_lines(path, text.delimiter_of(path), text.encoding)
    if len(reader_lines) != records:  # the two parsers disagree: keep DuckDB's count
        reader_lines = physical_lines = list(range(2, records + 2))
    con.execute(
        "create temp table _record_lines as select unnest(?) as reader_line, unnest(?) as line",
        [reader_lines, physical_lines],
    )


def _hold_back_repeated_headers(
    con: duckdb.DuckDBPyConnection, names: list[str], header: list[str], delimiter: str
) -> None:
    """A line equal to the header (exports concatenated into one file) is not a record:
    it is held back as a broken line, never loaded as data."""
    named = [(n, h) for n, h in zip(names, header, strict=True) if h.strip()]
    if not named:
        return
    repeats = " and ".join(
        f"lower(trim(replace({ident(n)}, chr(65279), ''))) = {sql_str(h.strip().lower())}"
        for n, h in named
    )
    con.execute(
        f"""
        insert into _landed_rejects
        select _row_number, 'REPEATED HEADER',
               'the line repeats the header line (exports concatenated into one file?)',
               {sql_str(delimiter.join(header))}
        from _landed where {repeats}
        """
    )
    con.execute(f"delete from _landed where {repeats}")


def land_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, text: TextFormat = TextFormat()
) -> list[str]:
    """Land JSON Lines as ``_landed``: keys matched case-insensitively, values as text."""
    for table in ("_lines", "_landed", "_landed_rejects", "_landed_nested"):
        con.execute(f"drop table if exists {table}")
    if path.name.lower().endswith(".gz"):
        count_physical_lines(path)  # a truncated stream rejects the file
    try:
        with _open_text(path, errors="replace", encoding=text.encoding) as handle:
            handle.read(1 << 16)
    except (OSError, EOFError) as exc:
        raise FileRejected("readable", f"the file cannot be read: {exc}") from exc
    undecodable: list[tuple[int, str]] = []
    try:
        # One text column per physical line: \x1f cannot appear unescaped in valid JSON.
        con.execute(
            f"""
            create temp table _lines as
            select row_number() over () as _row_number, line
            from read_csv({file_path(path)}, header = false, auto_detect = false,
                 columns = {{'line': 'VARCHAR'}}, delim = '\x1f', quote = '', escape = '',
                 compression = {_compression(path)}, max_line_size = {MAX_READ_LINE_BYTES},
                 encoding = {sql_str(text.encoding)},
                 strict_mode = false, ignore_errors = false)
            """
        )
    except duckdb.Error as exc:
        message = str(exc).lower()
        if "unicode" not in message and "utf-8" not in message:
            raise FileRejected("readable", f"the file cannot be read as JSON Lines: {exc}") from exc
        if text.encoding != "utf-8":
            raise FileRejected(
                "decodable", f"the file is not valid {text.encoding.upper()}: {exc}{DECLARE}"
            ) from exc
        # DuckDB stops at the first invalid byte: read line by line instead, so an
        # isolated bad line is quarantined like a CSV one and the rest loads
        undecodable = _land_lines_decoding_each(con, path)
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
    # a line longer than the CSV reader takes is held back as it is there: one huge value
    # does not make the file unreadable
    con.execute(
        f"""
        create temp table _landed_rejects as
        select _row_number,
               case when strlen(line) > {MAX_LINE_BYTES} then 'LINE SIZE OVER MAXIMUM'
                    else 'INVALID JSON' end as error_type,
               case when strlen(line) > {MAX_LINE_BYTES}
                        then format('Maximum line size of {MAX_LINE_BYTES} bytes exceeded. '
                                    || 'Actual Size:{{}} bytes.', strlen(line))
                    when json_valid(line) then 'the line is JSON but not an object'
                    else 'the line is not valid JSON' end as error_message,
               line as record
        from _lines
        where strlen(line) > {MAX_LINE_BYTES} or not json_valid(line)
           or json_type(line) <> 'OBJECT'
        """
    )
    if undecodable:
        con.execute(
            "insert into _landed_rejects select unnest(?), 'INVALID ENCODING', "
            "'the line is not valid UTF-8', unnest(?)",
            [[n for n, _ in undecodable], [line for _, line in undecodable]],
        )
    last = con.execute("select max(_row_number) from _lines").fetchone()[0]
    last_bad = con.execute("select max(_row_number) from _landed_rejects").fetchone()[0]
    if last_bad == last and not _ends_with_newline(path, text.encoding):
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
            where _row_number not in (select _row_number from _landed_rejects)
            order by key
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
        where _row_number not in (select _row_number from _landed_rejects)
        order by _row_number
        """
    )
    # an object or list under a key: no single value, which a contract column needs; named
    # by the column the key landed as (an empty key is `unnamed`, `_row_number` is
    # `_row_number_in_file`), so the check reaches the column it is about
    landed_names = [(k, lower) for lower, originals in by_lower.items() for k in originals]
    con.execute("create or replace temp table _json_key_names (key varchar, column_name varchar)")
    if landed_names:
        con.executemany("insert into _json_key_names values (?, ?)", landed_names)
    con.execute(
        """
        create temp table _landed_nested as
        select distinct keyed._row_number, names.column_name
        from (
            select _row_number, line, unnest(json_keys(line)) as key from _lines
            -- only a line with a brace past its first character or a bracket can nest
            where (strpos(substr(line, 2), '{') > 0 or strpos(line, '[') > 0)
              and _row_number not in (select _row_number from _landed_rejects)
        ) as keyed
        join _json_key_names as names on names.key = keyed.key
        where json_type(keyed.line, '/' || replace(replace(keyed.key, '~', '~0'), '/', '~1'))
              in ('OBJECT', 'ARRAY')
        """
    )
    return list(by_lower)


def _land_lines_decoding_each(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[int, str]]:
    """``_lines`` from the lines that are valid UTF-8; returns the others (line number, text
    with the bad bytes replaced). Rejects the file when they are more than 1 in 100 lines:
    it is in another encoding then."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    numbers, lines, bad = [], [], []
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                lines.append(raw.decode("utf-8").rstrip("\r\n"))
                numbers.append(number)
            except UnicodeDecodeError:
                bad.append((number, raw.decode("utf-8", "replace").rstrip("\r\n")))
    records = sum(1 for line in lines if line.strip()) + len(bad)
    if len(bad) > records * MAX_UNDECODABLE_SHARE:
        raise FileRejected(
            "decodable",
            f"the file is not valid UTF-8: {len(bad)} of {records} lines hold invalid bytes "
            f"(first on line {bad[0][0]}), so it is in another encoding{DECLARE}",
        )
    con.execute(
        "create temp table _lines as select unnest(?) as _row_number, unnest(?) as line",
        [numbers, lines],
    )
    return bad


def land_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, text: TextFormat = TextFormat()
) -> list[str]:
    """Land a Parquet file as ``_landed``: its own types decide (``text`` does not apply)."""
    for table in ("_landed", "_landed_rejects", "_landed_nested"):
        con.execute(f"drop table if exists {table}")
    try:
        described = con.execute(
            f"describe select * from read_parquet({file_path(path)})"
        ).fetchall()
    except duckdb.Error as exc:
        raise FileRejected("readable", f"the file is not a readable Parquet file: {exc}") from exc
    originals = [row[0] for row in described]
    names = [column_name(n, n) for n in originals]
    nested = [
        name
        for name, (_, data_type, *_) in zip(names, described, strict=True)
        if data_type.startswith(("STRUCT", "MAP", "UNION")) or data_type.endswith("]")
    ]
    # a struct, list or map is kept as JSON text (in _extra under an unknown name)
    select_cols = ", ".join(
        f"cast({f'to_json({ident(o)})' if n in nested else ident(o)} as varchar) as {ident(n)}"
        for o, n in zip(originals, names, strict=True)
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
    # a struct, list or map column holds no single value in any row
    con.execute("create temp table _landed_nested (_row_number bigint, column_name varchar)")
    for name in nested:
        con.execute(
            f"insert into _landed_nested select _row_number, {sql_str(name)} from _landed "
            f"where {ident(name)} is not null"
        )
    return names


# format (ingestion.formats) -> reader
READERS = {"csv": land_csv, "jsonl": land_jsonl, "parquet": land_parquet}
