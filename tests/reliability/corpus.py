"""The adversarial corpus: kinds of bad input a landing folder receives, each with the
outcome the loader must give. ``test_corpus.py`` lands each case in an empty folder,
loads it and asserts that outcome; ``make reliability`` writes them to RELIABILITY.md.

A case names what lands (``files``: path under the landing folder -> bytes, or a
``make`` function for what bytes cannot say: links, pipes) and what must follow:
``manifest`` (path -> status and rule of its latest version, from
``ingest.load_manifest``), ``quarantined``
((path, line) -> rule, from ``ingest.quarantine``) and ``raw`` (an SQL query over the raw
tables and the rows it must return, for what was loaded and how). ``redelivered`` files
overwrite theirs after a first load, and are loaded in a second.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ORDERS = "sales/orders/"
LINES = "sales/order_lines/"
HEADER = "order_id,customer_id,ordered_at,status\n"
GOOD = "o1,c1,2024-01-01,completed\n"
LINE_HEADER = "order_line_id,order_id,quantity,unit_price\n"


@dataclass(frozen=True)
class Case:
    kind: str
    group: str
    files: dict[str, bytes] = field(default_factory=dict)
    manifest: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    quarantined: dict[tuple[str, int], str] = field(default_factory=dict)
    raw: tuple[str, list[tuple]] | None = None
    make: Callable[[Path], None] | None = None
    redelivered: dict[str, bytes] = field(default_factory=dict)


def _orders(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(r + "\n" for r in rows)).encode()


def _one_bad_row(kind: str, group: str, row: str, rule: str, file: str = "orders.csv") -> Case:
    """The commonest shape: a good row, then a bad one; the good one loads, the bad one
    is held back on line 3 with its rule."""
    return Case(
        kind,
        group,
        files={ORDERS + file: _orders(GOOD.strip(), row)},
        manifest={ORDERS + file: ("loaded", None)},
        quarantined={(ORDERS + file, 3): rule},
        raw=("select order_id from raw.sales__orders", [("o1",)]),
    )


def _rejected(kind: str, group: str, content: bytes, rule: str, file: str = "orders.csv") -> Case:
    return Case(
        kind, group, files={ORDERS + file: content}, manifest={ORDERS + file: ("rejected", rule)}
    )


def _parquet(columns: dict[str, list]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


def _symlink_outside(landing: Path) -> None:
    outside = landing.parent / "outside.csv"
    outside.write_bytes(_orders("secret,c9,2024-01-01,completed"))
    (landing / ORDERS).mkdir(parents=True, exist_ok=True)
    (landing / ORDERS / "linked.csv").symlink_to(outside)


def _symlink_system_file(landing: Path) -> None:
    (landing / ORDERS).mkdir(parents=True, exist_ok=True)
    (landing / ORDERS / "passwd.csv").symlink_to("/etc/passwd")


def _fifo(landing: Path) -> None:
    (landing / ORDERS).mkdir(parents=True, exist_ok=True)
    os.mkfifo(landing / ORDERS / "pipe.csv")


CASES: list[Case] = [
    # --- encodings
    _rejected(
        "latin-1 text",
        "encoding",
        _orders("o1,café,2024-01-01,completed").decode().encode("latin-1"),
        "decodable",
    ),
    _rejected(
        "UTF-16 with its byte-order mark",
        "encoding",
        _orders(GOOD.strip()).decode().encode("utf-16"),
        "decodable",
    ),
    # round 3: an isolated bad byte sequence no longer holds the 499 good lines back
    Case(
        "invalid UTF-8 on one line deep in the file (that line quarantined)",
        "encoding",
        files={
            ORDERS + "orders.csv": _orders(
                *[f"o{i},c1,2024-01-01,completed" for i in range(1, 500)]
            )
            + b"o500,c\xff,2024-01-01,completed\n"
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        quarantined={(ORDERS + "orders.csv", 501): "well_formed_line"},
        raw=("select count(*) from raw.sales__orders", [(499,)]),
    ),
    Case(
        "invalid UTF-8 on one JSON line (that line quarantined)",
        "encoding",
        files={
            ORDERS + "orders.jsonl": b"".join(
                b'{"order_id": "o%d", "customer_id": "c1", "ordered_at": "2024-01-01"}\n' % i
                for i in range(1, 200)
            )
            + b'{"order_id": "o200", "customer_id": "caf\xe9", "ordered_at": "2024-01-01"}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        quarantined={(ORDERS + "orders.jsonl", 200): "well_formed_line"},
        raw=("select count(*) from raw.sales__orders", [(199,)]),
    ),
    _rejected(
        "invalid UTF-8 on many lines (another encoding)",
        "encoding",
        _orders(*[f"o{i},caf\xe9,2024-01-01,completed" for i in range(1, 20)])
        .decode()
        .encode("latin-1"),
        "decodable",
    ),
    Case(
        "UTF-8 byte-order mark (Excel)",
        "encoding",
        files={ORDERS + "bom.csv": b"\xef\xbb\xbf" + _orders(GOOD.strip())},
        manifest={ORDERS + "bom.csv": ("loaded", None)},
        raw=("select order_id from raw.sales__orders", [("o1",)]),
    ),
    Case(
        "Windows line ends (CRLF)",
        "encoding",
        files={ORDERS + "crlf.csv": _orders(GOOD.strip()).replace(b"\n", b"\r\n")},
        manifest={ORDERS + "crlf.csv": ("loaded", None)},
        raw=("select order_id, status from raw.sales__orders", [("o1", "completed")]),
    ),
    # --- quoting
    _rejected(
        "unterminated quote swallowing the lines after it",
        "quoting",
        _orders('o1,"c1,2024-01-01,completed', "o2,c1,2024-01-02,completed"),
        "balanced_quotes",
    ),
    _one_bad_row(
        "unterminated quote on the last line",
        "quoting",
        'o2,"c1,2024-01-02,completed',
        "well_formed_line",
    ),
    Case(
        "a quoted line break before a bad row (line numbers as an editor counts them)",
        "quoting",
        files={
            ORDERS + "orders.csv": _orders(
                'o1,"c\n1",2024-01-01,completed', "o2,c1,2024-01-02,bogus"
            )
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        quarantined={(ORDERS + "orders.csv", 4): "accepted_values"},
        raw=("select order_id, _row_number from raw.sales__orders", [("o1", 2)]),
    ),
    Case(
        "quoted field holding the delimiter and doubled quotes",
        "quoting",
        files={ORDERS + "quoted.csv": _orders('o1,"c1, ""the"" first",2024-01-01,completed')},
        manifest={ORDERS + "quoted.csv": ("loaded", None)},
        raw=("select customer_id from raw.sales__orders", [('c1, "the" first',)]),
    ),
    Case(
        "stray quote inside an unquoted field",
        "quoting",
        files={ORDERS + "stray.csv": _orders('o1,c"1,2024-01-01,completed')},
        manifest={ORDERS + "stray.csv": ("loaded", None)},
        raw=("select customer_id from raw.sales__orders", [('c"1',)]),
    ),
    # --- delimiters and structure
    _rejected(
        "semicolon-separated",
        "delimiters",
        _orders("o1;c1;2024-01-01;completed", header=HEADER.replace(",", ";")),
        "required_column",
    ),
    _rejected(
        "tab-separated under a .csv name",
        "delimiters",
        _orders("o1\tc1\t2024-01-01\tcompleted", header=HEADER.replace(",", "\t")),
        "required_column",
    ),
    Case(
        "tab-separated under a .tsv name",
        "delimiters",
        files={
            ORDERS + "orders.tsv": _orders(
                "o1\tc1\t2024-01-01\tcompleted", header=HEADER.replace(",", "\t")
            )
        },
        manifest={ORDERS + "orders.tsv": ("loaded", None)},
        raw=("select order_id from raw.sales__orders", [("o1",)]),
    ),
    _one_bad_row(
        "a line with too many fields",
        "structure",
        "o2,c1,2024-01-02,completed,extra",
        "well_formed_line",
    ),
    _one_bad_row("a line with too few fields", "structure", "o2,c1,2024-01-02", "well_formed_line"),
    _rejected(
        "duplicate header names",
        "structure",
        _orders(GOOD.strip() + ",x", header=HEADER.strip() + ",status\n"),
        "unique_columns",
    ),
    _rejected(
        "header names differing only by case",
        "structure",
        _orders(GOOD.strip() + ",x", header=HEADER.strip() + ",ORDER_ID\n"),
        "unique_columns",
    ),
    _rejected(
        "a required column missing",
        "structure",
        b"order_id,ordered_at\no1,2024-01-01\n",
        "required_column",
    ),
    Case(
        "header only, no rows",
        "structure",
        files={ORDERS + "header.csv": HEADER.encode()},
        manifest={ORDERS + "header.csv": ("loaded", None)},
        raw=("select count(*) from raw.sales__orders", [(0,)]),
    ),
    _rejected("empty file (0 bytes)", "structure", b"", "not_empty"),
    _rejected("blank lines only", "structure", b"\n\n\n", "not_empty"),
    Case(
        "a blank line mid-file before a bad row",
        "structure",
        files={
            ORDERS + "orders.csv": _orders(
                GOOD.strip(), "", "o2,c1,2024-01-02,bogus", "o3,c1,2024-01-03,completed"
            )
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        quarantined={(ORDERS + "orders.csv", 4): "accepted_values"},
        raw=(
            "select order_id, _row_number from raw.sales__orders order by 1",
            [("o1", 2), ("o3", 5)],
        ),
    ),
    Case(
        "the header repeated mid-file (concatenated exports)",
        "structure",
        files={
            ORDERS + "orders.csv": _orders(
                GOOD.strip(), HEADER.strip(), "o2,c1,2024-01-02,completed"
            )
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        quarantined={(ORDERS + "orders.csv", 3): "well_formed_line"},
        raw=("select order_id from raw.sales__orders order by 1", [("o1",), ("o2",)]),
    ),
    Case(
        "a column named like the loader's line number",
        "structure",
        files={
            ORDERS + "orders.csv": _orders(
                "o1,c1,2024-01-01,completed,70",
                "o2,c1,2024-01-02,bogus,80",
                header=HEADER.strip() + ",_row_number\n",
            )
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        quarantined={(ORDERS + "orders.csv", 3): "accepted_values"},
        raw=(
            "select order_id, _row_number, _extra->>'_row_number_in_file' from raw.sales__orders",
            [("o1", 2, "70")],
        ),
    ),
    Case(
        "unknown extra columns, one named like SQL",
        "structure",
        files={
            ORDERS + "drift.csv": _orders(
                GOOD.strip() + ",X",
                header=HEADER.strip() + ',"x""); drop table raw.sales__orders; --"\n',
            )
        },
        manifest={ORDERS + "drift.csv": ("loaded", None)},
        raw=(
            "select order_id, json_keys(_extra)[1] from raw.sales__orders",
            [("o1", 'x"); drop table raw.sales__orders; --')],
        ),
    ),
    # --- huge lines
    _rejected(
        "a 10 MB field in the header",
        "huge lines",
        b"x" * (10 << 20) + b"\n" + GOOD.encode(),
        "readable",
    ),
    _one_bad_row(
        "a 10 MB field in a row",
        "huge lines",
        "o2," + "c" * (10 << 20) + ",2024-01-02,completed",
        "well_formed_line",
    ),
    Case(
        "a 10 MB line in JSON Lines",
        "huge lines",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o0", "customer_id": "c1", "ordered_at": "2024-01-01"}\n'
            + b'{"order_id": "o1", "customer_id": "'
            + b"c" * (10 << 20)
            + b'", "ordered_at": "2024-01-01"}\n'
            + b'{"order_id": "o2", "customer_id": "c1", "ordered_at": "2024-01-01"}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        quarantined={(ORDERS + "orders.jsonl", 2): "well_formed_line"},
        raw=(
            "select order_id, _row_number from raw.sales__orders order by 1",
            [("o0", 1), ("o2", 3)],
        ),
    ),
    # --- truncation and compression
    _rejected(
        "last line cut off (no newline)",
        "truncation",
        _orders(GOOD.strip())[:-1] + b"\no2,c1,2024-01-0",
        "complete",
    ),
    _rejected(
        "gzip stream cut short",
        "truncation",
        gzip.compress(_orders(GOOD.strip()))[:-12],
        "complete",
        file="orders.csv.gz",
    ),
    _rejected(
        "not gzip under a .gz name",
        "truncation",
        _orders(GOOD.strip()),
        "complete",
        file="orders.csv.gz",
    ),
    _rejected(
        "Parquet file that is not Parquet",
        "truncation",
        b"PAR1 this is not parquet PAR1",
        "readable",
        file="orders.parquet",
    ),
    # --- JSON
    Case(
        "JSON array instead of JSON Lines",
        "json",
        files={
            ORDERS
            + "orders.json": b'[{"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-01-01"}]\n'
        },
        manifest={ORDERS + "orders.json": ("rejected", "json_lines")},
    ),
    Case(
        "a JSON line that is not JSON",
        "json",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-01-01"}\n{"order_id": "o2",\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        quarantined={(ORDERS + "orders.jsonl", 2): "well_formed_line"},
    ),
    Case(
        "JSON keys differing only by case in one object",
        "json",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o0", "customer_id": "c1", "ordered_at": "2024-01-01"}\n'
            b'{"order_id": "o1", "Order_Id": "o2", "customer_id": "c1", "ordered_at": "2024-01-01"}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        quarantined={(ORDERS + "orders.jsonl", 2): "well_formed_line"},
        raw=("select order_id from raw.sales__orders", [("o0",)]),
    ),
    Case(
        "JSON keys that are empty or hold a quote",
        "json",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o1", "customer_id": "c1", "ordered_at": "2024-01-01", '
            b'"": "x", "we\\"ird": "y"}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        raw=("select order_id from raw.sales__orders", [("o1",)]),
    ),
    Case(
        "a trailing delimiter on every line",
        "delimiters",
        files={
            ORDERS + "orders.csv": _orders(
                "o1,c1,2024-01-01,completed,", header=HEADER.strip() + ",\n"
            )
        },
        manifest={ORDERS + "orders.csv": ("loaded", None)},
        raw=("select order_id, status from raw.sales__orders", [("o1", "completed")]),
    ),
    Case(
        "file names holding glob characters",
        "file names",
        files={
            ORDERS + "export[1].csv": _orders("o1,c1,2024-01-01,completed"),
            ORDERS + "export1.csv": _orders("o2,c1,2024-01-01,completed"),
            ORDERS + "export*.csv": _orders("o3,c1,2024-01-01,completed"),
        },
        manifest={
            ORDERS + "export[1].csv": ("loaded", None),
            ORDERS + "export1.csv": ("loaded", None),
            ORDERS + "export*.csv": ("loaded", None),
        },
        raw=(
            "select order_id, file_path from raw.sales__orders join ingest.load_manifest "
            "on _load_id = load_id order by 1",
            [
                ("o1", ORDERS + "export[1].csv"),
                ("o2", ORDERS + "export1.csv"),
                ("o3", ORDERS + "export*.csv"),
            ],
        ),
    ),
    Case(
        "upper-case gzip suffix",
        "file names",
        files={ORDERS + "ORDERS.CSV.GZ": gzip.compress(_orders(GOOD.strip()))},
        manifest={ORDERS + "ORDERS.CSV.GZ": ("loaded", None)},
        raw=("select order_id from raw.sales__orders", [("o1",)]),
    ),
    # --- types
    Case(
        "fractional quantity for an integer",
        "types",
        files={LINES + "lines.csv": (LINE_HEADER + "l1,o1,2,9.99\nl2,o1,2.5,9.99\n").encode()},
        manifest={LINES + "lines.csv": ("loaded", None)},
        quarantined={(LINES + "lines.csv", 3): "type"},
        raw=("select order_line_id, quantity from raw.sales__order_lines", [("l1", 2)]),
    ),
    Case(
        "more decimals than the money type holds",
        "types",
        files={LINES + "lines.csv": (LINE_HEADER + "l1,o1,1,9.99\nl2,o1,1,1.23456\n").encode()},
        manifest={LINES + "lines.csv": ("loaded", None)},
        quarantined={(LINES + "lines.csv", 3): "type"},
    ),
    Case(
        "text, NaN and infinity in numbers",
        "types",
        files={
            LINES + "lines.csv": (
                LINE_HEADER + "l1,o1,1,9.99\nl2,o1,two,9.99\nl3,o1,1,NaN\nl4,o1,1,inf\n"
            ).encode()
        },
        manifest={LINES + "lines.csv": ("loaded", None)},
        quarantined={
            (LINES + "lines.csv", 3): "type",
            (LINES + "lines.csv", 4): "type",
            (LINES + "lines.csv", 5): "type",
        },
    ),
    _one_bad_row(
        "impossible calendar date (30 February)", "dates", "o2,c1,2024-02-30,completed", "type"
    ),
    _one_bad_row("a date in words", "dates", "o2,c1,yesterday,completed", "type"),
    _one_bad_row(
        "Unix-epoch placeholder date", "dates", "o2,c1,1970-01-01,completed", "plausible_date"
    ),
    _one_bad_row("far-future date (2999)", "dates", "o2,c1,2999-01-01,completed", "plausible_date"),
    Case(
        "decades-old history and a time-zone offset",
        "dates",
        files={
            ORDERS + "old.csv": _orders(
                "o1,c1,1987-06-01,completed", "o2,c1,2024-01-01T23:30:00-02:00,completed"
            )
        },
        manifest={ORDERS + "old.csv": ("loaded", None)},
        raw=(
            "select order_id, ordered_at::varchar from raw.sales__orders order by 1",
            [("o1", "1987-06-01 00:00:00"), ("o2", "2024-01-02 01:30:00")],
        ),
    ),
    Case(
        "absurd amounts beyond what the marts can sum",
        "numbers",
        files={
            LINES + "lines.csv": (
                LINE_HEADER
                + "l1,o1,100000,1000000\nl2,o1,1,1e30\nl3,o1,99999999999,1\nl4,o1,1,-5\n"
            ).encode()
        },
        manifest={LINES + "lines.csv": ("loaded", None)},
        quarantined={
            (LINES + "lines.csv", 3): "type",
            (LINES + "lines.csv", 4): "range",
            (LINES + "lines.csv", 5): "range",
        },
        raw=(
            "select quantity, unit_price::varchar from raw.sales__order_lines",
            [(100000, "1000000.0000")],
        ),
    ),
    # --- text
    _one_bad_row(
        "NUL byte in text", "text", "o2,c\x001,2024-01-02,completed", "control_characters"
    ),
    _one_bad_row(
        "escape sequence (terminal control) in text",
        "text",
        "o2,c\x1b[31m1,2024-01-02,completed",
        "control_characters",
    ),
    _one_bad_row(
        "look-alike Cyrillic letter in a code",
        "text",
        "o2,c1,2024-01-02,c\u043empleted",
        "accepted_values",
    ),
    Case(
        "SQL and shell metacharacters in values",
        "text",
        files={
            ORDERS + "meta.csv": _orders(
                "o1'; drop table raw.sales__orders; --,$(rm -rf ~),2024-01-01,completed"
            )
        },
        manifest={ORDERS + "meta.csv": ("loaded", None)},
        raw=(
            "select order_id, customer_id from raw.sales__orders",
            [("o1'; drop table raw.sales__orders; --", "$(rm -rf ~)")],
        ),
    ),
    Case(
        "shell metacharacters and Unicode in a file name",
        "file names",
        files={ORDERS + "$(touch pwned); ördérs `x`.csv": _orders(GOOD.strip())},
        manifest={ORDERS + "$(touch pwned); ördérs `x`.csv": ("loaded", None)},
        raw=(
            "select _source_file from raw.sales__orders",
            [(ORDERS + "$(touch pwned); ördérs `x`.csv",)],
        ),
    ),
    # --- keys and duplicates
    _one_bad_row("empty key", "keys", ",c1,2024-01-02,completed", "not_null"),
    _one_bad_row(
        "duplicate key within a file", "keys", "o1,c1,2024-01-01,cancelled", "duplicate_key"
    ),
    Case(
        "conflicting versions of one key and cursor across files",
        "keys",
        files={
            ORDERS + "a.csv": _orders(
                "o1,c1,2024-01-01,completed,2024-01-01", header=HEADER.strip() + ",updated_at\n"
            ),
            ORDERS + "b.csv": _orders(
                "o1,c1,2024-01-01,cancelled,2024-01-01",
                "o1,c1,2024-01-01,refunded,2024-01-05",
                header=HEADER.strip() + ",updated_at\n",
            ),
        },
        manifest={ORDERS + "a.csv": ("loaded", None), ORDERS + "b.csv": ("loaded", None)},
        quarantined={(ORDERS + "b.csv", 2): "conflicting_duplicate"},
        raw=(
            "select status, updated_at::date::varchar from raw.sales__orders order by 2",
            [("completed", "2024-01-01"), ("refunded", "2024-01-05")],
        ),
    ),
    Case(
        "the same facts delivered again in another file",
        "keys",
        files={
            LINES + "a.csv": (LINE_HEADER + "l1,o1,1,9.99\n").encode(),
            LINES + "b.csv": (LINE_HEADER + "l1,o1,1,9.99\nl2,o1,3,9.99\n").encode(),
        },
        manifest={LINES + "a.csv": ("loaded", None), LINES + "b.csv": ("loaded", None)},
        raw=(
            "select distinct order_line_id from raw.sales__order_lines order by 1",
            [("l1",), ("l2",)],
        ),
    ),
    Case(
        "a fact delivered again with other values (the later file corrects it)",
        "keys",
        files={
            LINES + "a.csv": (LINE_HEADER + "l1,o1,1,9.99\n").encode(),
            LINES + "b.csv": (LINE_HEADER + "l1,o1,5,9.99\n").encode(),
        },
        manifest={LINES + "a.csv": ("loaded", None), LINES + "b.csv": ("loaded", None)},
        raw=(
            "select _source_file, quantity from raw.sales__order_lines",
            [(LINES + "a.csv", 1), (LINES + "b.csv", 5)],
        ),
    ),
    Case(
        "a daily export overwritten in place with new content",
        "keys",
        files={ORDERS + "export.csv": _orders(GOOD.strip(), "o2,c1,2024-01-02,completed")},
        redelivered={ORDERS + "export.csv": _orders("o1,c1,2024-01-01,refunded")},
        manifest={ORDERS + "export.csv": ("loaded", None)},
        raw=(
            "select order_id, status from raw.sales__orders union all "
            "select record->>'order_id', 'replaced' from ingest.replaced_rows",
            [("o1", "refunded"), ("o1", "replaced"), ("o2", "replaced")],
        ),
    ),
    Case(
        "an export overwritten in place with a broken version",
        "keys",
        files={ORDERS + "export.csv": _orders(GOOD.strip())},
        redelivered={ORDERS + "export.csv": b""},
        manifest={ORDERS + "export.csv": ("rejected", "not_empty")},
        # a version rejected whole replaces nothing: the last good one stays
        raw=("select order_id, status from raw.sales__orders", [("o1", "completed")]),
    ),
    Case(
        "one file landed twice under two names",
        "keys",
        files={
            ORDERS + "a.csv": _orders(GOOD.strip()),
            ORDERS + "copy of a.csv": _orders(GOOD.strip()),
        },
        manifest={ORDERS + "a.csv": ("loaded", None)},
        raw=("select count(*) from raw.sales__orders", [(1,)]),
    ),
    # --- the landing folder itself
    Case(
        "symbolic link to a file outside the landing folder",
        "filesystem",
        make=_symlink_outside,
        manifest={ORDERS + "linked.csv": ("rejected", "regular_file")},
        raw=("select count(*) from raw.sales__orders", [(0,)]),
    ),
    Case(
        "symbolic link to a system file",
        "filesystem",
        make=_symlink_system_file,
        manifest={ORDERS + "passwd.csv": ("rejected", "regular_file")},
    ),
    Case(
        "named pipe",
        "filesystem",
        make=_fifo,
        manifest={ORDERS + "pipe.csv": ("rejected", "regular_file")},
    ),
    Case(
        "spreadsheet in an entity folder",
        "filesystem",
        files={ORDERS + "orders.xlsx": b"PK\x03\x04"},
        manifest={ORDERS + "orders.xlsx": ("ignored", "known_format")},
    ),
    Case(
        "unknown entity folder",
        "filesystem",
        files={"sales/refunds/refunds.csv": b"refund_id\nr1\n"},
        manifest={"sales/refunds/refunds.csv": ("ignored", "known_entity")},
    ),
    Case(
        "a JSON object or list where one value is expected",
        "types",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o0", "customer_id": "c1", "ordered_at": "2024-01-01", '
            b'"extra": {"kept": true}}\n'
            b'{"order_id": "o1", "customer_id": {"id": "c1"}, "ordered_at": "2024-01-01"}\n'
            b'{"order_id": "o2", "customer_id": "c1", "ordered_at": "2024-01-01", "status": ["completed"]}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        quarantined={(ORDERS + "orders.jsonl", 2): "type", (ORDERS + "orders.jsonl", 3): "type"},
        raw=(
            "select order_id, _extra->>'$.extra' from raw.sales__orders",
            [("o0", '{"kept":true}')],
        ),
    ),
    Case(
        "a JSON object under a key written with a tab before its name",
        "types",
        files={
            ORDERS
            + "orders.jsonl": b'{"order_id": "o0", "customer_id": "c1", "ordered_at": "2024-01-01"}\n'
            b'{"order_id": "o1", "\\tcustomer_id": {"id": "c1"}, "ordered_at": "2024-01-01"}\n'
        },
        manifest={ORDERS + "orders.jsonl": ("loaded", None)},
        # the key lands as customer_id, so its object is that column's type violation
        quarantined={(ORDERS + "orders.jsonl", 2): "type"},
        raw=("select order_id, customer_id from raw.sales__orders", [("o0", "c1")]),
    ),
    Case(
        "a Parquet struct where one value is expected",
        "types",
        files={
            ORDERS + "orders.parquet": _parquet(
                {
                    "order_id": ["o1", "o2"],
                    "customer_id": [{"id": "c1"}, None],
                    "ordered_at": ["2024-01-01", "2024-01-01"],
                }
            )
        },
        manifest={ORDERS + "orders.parquet": ("loaded", None)},
        quarantined={(ORDERS + "orders.parquet", 1): "type"},
        raw=("select order_id from raw.sales__orders", [("o2",)]),
    ),
    Case(
        "Parquet with numbers stored as floats",
        "types",
        files={
            LINES + "lines.parquet": _parquet(
                {
                    "order_line_id": ["l1", "l2"],
                    "order_id": ["o1", "o1"],
                    "quantity": [1.0, 1.5],
                    "unit_price": [9.99, 9.99],
                }
            )
        },
        manifest={LINES + "lines.parquet": ("loaded", None)},
        quarantined={(LINES + "lines.parquet", 2): "type"},
        raw=("select order_line_id, quantity from raw.sales__order_lines", [("l1", 1)]),
    ),
]
