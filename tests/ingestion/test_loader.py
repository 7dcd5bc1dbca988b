"""Loader behaviour on every kind of bad input, reconciliation, idempotency and crashes."""

import gzip
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ingestion.contracts import load_contracts
from ingestion.loader import load_landing
from warehouse.connection import connection
from warehouse.faults import CRASH_POINT_ENV

ORDERS = next(c for c in load_contracts() if c.name == "sales__orders")
HEADER = "order_id,customer_id,ordered_at,status\n"


def _land(landing: Path, name: str, content: str | bytes) -> Path:
    path = landing / "sales" / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _load(tmp_path: Path, batch: str = "b1"):
    with connection(tmp_path / "w.duckdb") as con:
        return load_landing(con, tmp_path / "landing", batch, [ORDERS])


def _quarantine(tmp_path: Path) -> list[tuple]:
    with connection(tmp_path / "w.duckdb") as con:
        return con.execute(
            "select file_path, row_number, column_name, rule, reason from ingest.quarantine "
            "order by row_number"
        ).fetchall()


@pytest.mark.parametrize(
    ("row", "column", "rule", "reason_part"),
    [
        ("o2,c1,2024-01-02,shipped", "status", "accepted_values", "'shipped' is not one of"),
        ("o2,c1,yesterday,completed", "ordered_at", "type", "'yesterday' is not a valid timestamp"),
        (",c1,2024-01-02,completed", "order_id", "not_null", "order_id is empty"),
        ("o1,c1,2024-01-01,completed", "order_id", "duplicate_key", "duplicate of line 2"),
        ("o2,c1,2024-01-02", None, "well_formed_line", "MISSING COLUMNS"),
        ("o2,c1,2024-01-02,completed,extra", None, "well_formed_line", "TOO MANY COLUMNS"),
    ],
)
def test_bad_row_is_quarantined_with_file_line_and_rule(tmp_path, row, column, rule, reason_part):
    _land(tmp_path / "landing", "orders.csv", HEADER + "o1,c1,2024-01-01,completed\n" + row + "\n")
    report = _load(tmp_path)
    [result] = report.files
    assert result.status == "loaded"
    assert (result.rows_landed, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    [(file, line, col, got_rule, reason)] = _quarantine(tmp_path)
    assert (file, line, col, got_rule) == ("sales/orders/orders.csv", 3, column, rule)
    assert reason_part in reason


@pytest.mark.parametrize(
    ("content", "rule", "message_part"),
    [
        (b"", "not_empty", "empty"),
        (
            "order_id,ordered_at\no1,2024-01-01\n",
            "required_column",
            "missing required column(s) customer_id",
        ),
        (HEADER.encode() + b"o1,caf\xe9,2024-01-01,completed\n", "decodable", "not valid UTF-8"),
        (HEADER + "o1,c1,2024-01-01,completed\no2,c1,2024-01-0", "complete", "truncated"),
        (
            gzip.compress((HEADER + "o1,c1,2024-01-01,completed\n").encode())[:-12],
            "complete",
            "truncated",
        ),
    ],
    ids=["empty", "missing-column", "undecodable", "truncated", "truncated-gzip"],
)
def test_unusable_file_is_rejected_whole(tmp_path, content, rule, message_part):
    name = (
        "orders.csv.gz"
        if isinstance(content, bytes) and content[:2] == b"\x1f\x8b"
        else "orders.csv"
    )
    _land(tmp_path / "landing", name, content)
    [result] = _load(tmp_path).files
    assert result.status == "rejected"
    assert f"sales/orders/{name}" in result.error and message_part in result.error
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute("select count(*) from raw.sales__orders").fetchone()[0] == 0
        assert con.execute("select status, rule from ingest.load_manifest").fetchall() == [
            ("rejected", rule)
        ]
        # the rows it holds are counted and held back: the manifest row reconciles
        landed, loaded, held = con.execute(
            "select rows_landed, rows_loaded, rows_quarantined from ingest.load_manifest"
        ).fetchone()
    assert landed is not None and loaded == 0 and held == landed
    if rule in ("not_empty", "required_column", "decodable"):
        assert landed == {"not_empty": 0, "required_column": 1, "decodable": 1}[rule]


def test_extra_columns_are_kept_and_reported_as_drift(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.csv",
        "ORDER_ID,Customer_Id,ordered_at,coupon\no1,c1,2024-01-01,X\n",
    )
    [result] = _load(tmp_path).files
    assert result.schema_drift == ["coupon"]
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute(
            "select order_id, status, _extra->>'coupon' from raw.sales__orders"
        ).fetchall() == [("o1", "completed", "X")]


def test_json_lines_and_parquet_load_with_line_numbers(tmp_path):
    landing = tmp_path / "landing"
    _land(
        landing,
        "a.jsonl",
        '{"ORDER_ID":"o1","customer_id":"c1","ordered_at":"2024-01-01T10:00:00+02:00"}\n{bad\n',
    )
    import duckdb

    duckdb.sql(
        "copy (select 'o2' as order_id, 'c2' as customer_id, timestamp '2024-01-02' as ordered_at) "
        f"to '{landing / 'sales/orders/b.parquet'}' (format parquet)"
    )
    report = _load(tmp_path)
    assert [(f.rows_loaded, f.rows_quarantined) for f in report.files] == [(1, 1), (1, 0)]
    with connection(tmp_path / "w.duckdb") as con:
        rows = con.execute(
            "select order_id, ordered_at::varchar, _row_number from raw.sales__orders order by 1"
        ).fetchall()
    # The +02:00 offset is honoured: stored in UTC.
    assert rows == [("o1", "2024-01-01 08:00:00", 1), ("o2", "2024-01-02 00:00:00", 1)]
    assert _quarantine(tmp_path)[0][1:4] == (2, None, "well_formed_line")


def _table_contents(db: Path) -> dict[str, list]:
    with connection(db, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'ingest') order by all"
        ).fetchall()
        return {
            f"{s}.{t}": sorted(map(repr, con.execute(f"select * from {s}.{t}").fetchall()))
            for s, t in tables
        }


def test_loading_the_same_landing_twice_changes_nothing(demo_landing, tmp_path):
    db = tmp_path / "w.duckdb"
    with connection(db) as con:
        first = load_landing(con, demo_landing, "b1")
    before = _table_contents(db)
    with connection(db) as con:
        second = load_landing(con, demo_landing, "b2")
    assert first.totals()["files_loaded"] > 10
    assert second.totals()["files_loaded"] == 0 and second.totals()["files_skipped"] == len(
        first.files
    )
    assert _table_contents(db) == before
    # every landed row is loaded or quarantined, per file: rows of a loaded file that
    # failed their contract are in the quarantine table; a file rejected whole holds all
    # its rows back
    with connection(db) as con:
        mismatched = con.execute(
            "select file_path from ingest.load_manifest m where rows_landed is null "
            "or rows_landed is distinct from rows_loaded + rows_quarantined "
            "or (status = 'loaded' and rows_quarantined <> "
            "    (select count(*) from ingest.quarantine q where q.load_id = m.load_id)) "
            "or (status = 'rejected' and rows_loaded <> 0)"
        ).fetchall()
    assert mismatched == []


def _raw_orders(tmp_path: Path) -> list[tuple]:
    with connection(tmp_path / "w.duckdb") as con:
        return con.execute(
            "select order_id, status, _source_file from raw.sales__orders order by all"
        ).fetchall()


def _versions(tmp_path: Path) -> list[tuple]:
    with connection(tmp_path / "w.duckdb") as con:
        return con.execute(
            "select file_path, file_version, status, rows_loaded, rows_replaced "
            "from ingest.load_manifest order by load_id"
        ).fetchall()


def test_a_file_delivered_again_under_its_name_replaces_its_earlier_version(tmp_path):
    """A daily export overwritten in place: the new content is version 2 of the file; its
    rows replace version 1's (o2, gone from the new export, leaves raw), the rows it
    replaced are kept in ingest.replaced_rows, and the manifest keeps both versions."""
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER + "o1,c1,2024-01-01,completed\no2,c1,2024-01-02,completed\n",
    )
    _load(tmp_path)
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER + "o1,c1,2024-01-01,refunded\no3,c2,2024-01-03,completed\n",
    )
    [result] = _load(tmp_path, "b2").files
    assert (result.status, result.rows_loaded, result.rows_replaced) == ("loaded", 2, 2)
    assert _raw_orders(tmp_path) == [
        ("o1", "refunded", "sales/orders/orders.csv"),
        ("o3", "completed", "sales/orders/orders.csv"),
    ]
    assert _versions(tmp_path) == [
        ("sales/orders/orders.csv", 1, "loaded", 2, 0),
        ("sales/orders/orders.csv", 2, "loaded", 2, 2),
    ]
    with connection(tmp_path / "w.duckdb") as con:
        replaced = con.execute(
            "select file_path, row_number, record->>'order_id', record->>'status' "
            "from ingest.replaced_rows order by row_number"
        ).fetchall()
        assert con.execute("select count(*) from ingest.quarantine").fetchone()[0] == 0
    assert replaced == [
        ("sales/orders/orders.csv", 2, "o1", "completed"),
        ("sales/orders/orders.csv", 3, "o2", "completed"),
    ]
    # the earlier content delivered again is version 3, not "already loaded"
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER + "o1,c1,2024-01-01,completed\no2,c1,2024-01-02,completed\n",
    )
    [again] = _load(tmp_path, "b3").files
    assert (again.status, again.rows_replaced) == ("loaded", 2)
    assert [r[:2] for r in _raw_orders(tmp_path)] == [("o1", "completed"), ("o2", "completed")]
    assert _load(tmp_path, "b4").files[0].status == "skipped"


def test_a_version_with_no_good_row_replaces_nothing(tmp_path):
    _land(tmp_path / "landing", "orders.csv", HEADER + "o1,c1,2024-01-01,completed\n")
    _load(tmp_path)
    # the export comes back with its header alone, then with every row broken
    for batch, content in (("b2", HEADER), ("b3", HEADER + "o1,c1,yesterday,completed\n")):
        _land(tmp_path / "landing", "orders.csv", content)
        [result] = _load(tmp_path, batch).files
        assert (result.status, result.rows_loaded, result.rows_replaced) == ("loaded", 0, 0)
    assert _raw_orders(tmp_path) == [("o1", "completed", "sales/orders/orders.csv")]
    assert [v[1] for v in _versions(tmp_path)] == [1, 2, 3]


def test_a_copy_of_a_replaced_version_loads_as_a_file_of_its_own(tmp_path):
    first = HEADER + "o1,c1,2024-01-01,completed\n"
    _land(tmp_path / "landing", "orders.csv", first)
    _land(tmp_path / "landing", "orders_copy.csv", first)
    assert [f.status for f in _load(tmp_path).files] == ["loaded", "ignored"]
    _land(tmp_path / "landing", "orders.csv", HEADER + "o2,c1,2024-01-02,completed\n")
    statuses = {f.file: f.status for f in _load(tmp_path, "b2").files}
    # the copy's content left raw with the version it copied: it is loaded now
    assert statuses == {
        "sales/orders/orders.csv": "loaded",
        "sales/orders/orders_copy.csv": "loaded",
    }
    assert [r[:2] for r in _raw_orders(tmp_path)] == [("o1", "completed"), ("o2", "completed")]
    assert {f.status for f in _load(tmp_path, "b3").files} == {"skipped"}


def test_redelivery_keep_leaves_the_keys_a_new_version_no_longer_holds(tmp_path):
    keep = replace(ORDERS, redelivery="keep")
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER + "o1,c1,2024-01-01,completed\no2,c1,2024-01-02,completed\n",
    )
    with connection(tmp_path / "w.duckdb") as con:
        load_landing(con, tmp_path / "landing", "b1", [keep])
    _land(tmp_path / "landing", "orders.csv", HEADER + "o1,c1,2024-01-01,refunded\n")
    with connection(tmp_path / "w.duckdb") as con:
        [result] = load_landing(con, tmp_path / "landing", "b2", [keep]).files
    # o1's new values are a correction of its own file's (the latest version wins in
    # staging); o2 stays as version 1 delivered it
    assert (result.status, result.rows_loaded, result.rows_corrected) == ("loaded", 1, 1)
    assert [r[:2] for r in _raw_orders(tmp_path)] == [
        ("o1", "completed"),
        ("o1", "refunded"),
        ("o2", "completed"),
    ]


LINES = next(c for c in load_contracts() if c.name == "sales__order_lines")
LINE_HEADER = "order_line_id,order_id,product_id,quantity,unit_price\n"


def _land_lines(tmp_path: Path, name: str, rows: str) -> None:
    path = tmp_path / "landing" / "sales" / "order_lines" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(LINE_HEADER + rows)


@pytest.mark.parametrize(("corrections", "held"), [("later_wins", False), ("conflict", True)])
def test_a_later_file_with_other_values_for_a_key_is_its_correction_or_a_conflict(
    tmp_path, corrections, held
):
    """Order lines have no cursor: by default a later file's version of a line wins (the
    manifest counts it as corrected); a contract may hold such clashes instead."""
    assert LINES.cursor is None and LINES.corrections == "later_wins"
    contract = replace(LINES, corrections=corrections)
    _land_lines(tmp_path, "a.csv", "l1,o1,p1,1,9.99\nl2,o1,p2,1,5.00\n")
    _land_lines(tmp_path, "b.csv", "l1,o1,p1,5,9.99\nl2,o1,p2,1,5.00\n")
    with connection(tmp_path / "w.duckdb") as con:
        a, b = load_landing(con, tmp_path / "landing", "b1", [contract]).files
        quantities = con.execute(
            "select _source_file, quantity from raw.sales__order_lines "
            "where order_line_id = 'l1' order by _load_id"
        ).fetchall()
        quarantined = con.execute("select row_number, rule from ingest.quarantine").fetchall()
        corrected = con.execute(
            "select rows_corrected from ingest.load_manifest where file_path like '%b.csv'"
        ).fetchone()[0]
    if held:
        assert quantities == [("sales/order_lines/a.csv", 1)]
        assert quarantined == [(2, "conflicting_duplicate")]
        assert corrected == 0
    else:
        assert quantities == [("sales/order_lines/a.csv", 1), ("sales/order_lines/b.csv", 5)]
        assert quarantined == []
        assert (b.rows_loaded, b.rows_corrected, corrected) == (2, 1, 1)


@pytest.mark.faults
@pytest.mark.parametrize("crash_point", ["ingest.after_raw_insert", "ingest.before_commit"])
def test_crash_mid_load_then_rerun_equals_clean_run(
    demo_landing, tmp_path, crash_point, record_property
):
    script = (
        "import sys; from pathlib import Path; from ingestion.loader import load_landing; "
        "from warehouse.connection import connection\n"
        "with connection(sys.argv[1]) as con: load_landing(con, Path(sys.argv[2]), 'b')"
    )
    crashed = tmp_path / "crashed.duckdb"
    env = {**os.environ, CRASH_POINT_ENV: crash_point}
    killed = subprocess.run(
        [sys.executable, "-c", script, str(crashed), str(demo_landing)],
        env=env,
        start_new_session=True,  # the crash point kills its process group
    )
    assert killed.returncode == -signal.SIGKILL  # died mid-load, without cleanup
    env.pop(CRASH_POINT_ENV)
    subprocess.run(
        [sys.executable, "-c", script, str(crashed), str(demo_landing)], env=env, check=True
    )
    clean = tmp_path / "clean.duckdb"
    subprocess.run(
        [sys.executable, "-c", script, str(clean), str(demo_landing)], env=env, check=True
    )

    def comparable(db):
        contents = _table_contents(db)
        # load ids, batch ids and timestamps differ between runs by nature
        with connection(db, read_only=True) as con:
            raw = {
                t: sorted(
                    con.execute(
                        f"select * exclude (_load_id, _batch_id, _loaded_at) from raw.{t}"
                    ).fetchall(),
                    key=repr,
                )
                for t in [k.split(".")[1] for k in contents if k.startswith("raw.")]
            }
            quarantine = sorted(
                con.execute(
                    "select file_path, row_number, rule, reason from ingest.quarantine"
                ).fetchall()
            )
        return raw, quarantine

    assert comparable(crashed) == comparable(clean)
    record_property("kind", f"SIGKILL of the loader alone ({crash_point})")
    record_property("outcome", "the rerun's raw tables and quarantine equal a clean load's")


def test_links_special_files_and_unknown_files_are_recorded_never_read(tmp_path):
    landing = tmp_path / "landing"
    secret = tmp_path / "outside.csv"
    secret.write_text(HEADER + "secret-order,secret-customer,2024-01-01,completed\n")
    _land(landing, "orders.csv", HEADER + "o1,c1,2024-01-01,completed\n")
    (landing / "sales" / "orders" / "linked.csv").symlink_to(secret)
    (landing / "sales" / "linked_folder").symlink_to(secret.parent, target_is_directory=True)
    os.mkfifo(landing / "sales" / "orders" / "pipe.csv")
    (landing / "sales" / "orders" / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (landing / "sales" / "refunds").mkdir()
    (landing / "sales" / "refunds" / "refunds.csv").write_text("refund_id\nr1\n")
    (landing / "_truth").mkdir()
    (landing / "_truth" / "answers.csv").write_text("not landed data\n")
    first = _load(tmp_path)
    second = _load(tmp_path, "b2")
    with connection(tmp_path / "w.duckdb") as con:
        recorded = con.execute(
            "select file_path, status, rule from ingest.load_manifest order by file_path"
        ).fetchall()
        text = repr(con.execute("select * from ingest.load_manifest").fetchall())
        text += repr(con.execute("select * from ingest.quarantine").fetchall())
        text += repr(con.execute("select * from raw.sales__orders").fetchall())
    assert recorded == [
        ("sales/linked_folder", "rejected", "regular_file"),
        ("sales/orders/linked.csv", "rejected", "regular_file"),
        ("sales/orders/notes.xlsx", "ignored", "known_format"),
        ("sales/orders/orders.csv", "loaded", None),
        ("sales/orders/pipe.csv", "rejected", "regular_file"),
        ("sales/refunds/refunds.csv", "ignored", "known_entity"),
    ]
    assert "secret" not in text  # the link's target was never opened
    assert {f.status for f in second.files} == {"skipped"}  # recorded once
    assert len(first.files) == 6


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    _land(tmp_path / "landing", "orders.csv", "\ufeff" + HEADER + "o1,c1,2024-01-01,completed\n")
    [result] = _load(tmp_path).files
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute("select order_id from raw.sales__orders").fetchall() == [("o1",)]


def test_placeholder_and_future_event_dates_are_quarantined_and_do_not_move_the_as_of(
    tmp_path,
):
    from ingestion.as_of import latest_event_date

    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER
        + "o1,c1,1985-06-01,completed\n"  # a decades-old transaction log is plausible
        + "o2,c1,1970-01-01,completed\n"  # the Unix epoch: a placeholder
        + "o3,c1,2999-01-01,completed\n"  # far beyond the load time
        + "o4,c1,2024-03-01,completed\n",
    )
    [result] = _load(tmp_path).files
    assert (result.rows_loaded, result.rows_quarantined) == (2, 2)
    assert [(q[1], q[3]) for q in _quarantine(tmp_path)] == [
        (3, "plausible_date"),
        (4, "plausible_date"),
    ]
    with connection(tmp_path / "w.duckdb") as con:
        assert str(latest_event_date(con)) == "2024-03-01"


def test_values_that_would_change_in_the_cast_or_overflow_the_marts_are_quarantined(tmp_path):
    lines = load_contracts_by_name()["sales__order_lines"]
    landing = tmp_path / "landing" / "sales" / "order_lines"
    landing.mkdir(parents=True)
    (landing / "lines.csv").write_text(
        "order_line_id,order_id,quantity,unit_price\n"
        "l1,o1,2,9.99\n"
        "l2,o1,2.5,9.99\n"  # fractional quantity: never rounded to 3
        "l3,o1,1,1.23456\n"  # more decimals than DECIMAL(18, 4): never rounded
        "l4,o1,1,99999999999999\n"  # allowed by type, but would overflow the marts
        "l5,o1,3.0,10\n"  # exactly an integer
    )
    with connection(tmp_path / "w.duckdb") as con:
        [result] = load_landing(con, tmp_path / "landing", "b1", [lines]).files
        quarantined = con.execute(
            "select row_number, column_name, rule from ingest.quarantine order by row_number"
        ).fetchall()
        loaded = con.execute(
            "select order_line_id, quantity from raw.sales__order_lines"
        ).fetchall()
    assert (result.rows_loaded, result.rows_quarantined) == (2, 3)
    assert quarantined == [
        (3, "quantity", "type"),
        (4, "unit_price", "type"),
        (5, "unit_price", "range"),
    ]
    assert sorted(loaded) == [("l1", 2), ("l5", 3)]


def load_contracts_by_name():
    return {c.name: c for c in load_contracts()}


def test_control_characters_in_text_are_quarantined(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER
        + "o1,c1,2024-01-01,completed\no2,c\x002,2024-01-01,completed\no3,c\x1b3,2024-01-01,completed\n",
    )
    [result] = _load(tmp_path).files
    assert (result.rows_loaded, result.rows_quarantined) == (1, 2)
    assert {(q[1], q[2], q[3]) for q in _quarantine(tmp_path)} == {
        (3, "customer_id", "control_characters"),
        (4, "customer_id", "control_characters"),
    }


def test_json_keys_differing_only_by_case_in_one_object_quarantine_that_line(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.jsonl",
        '{"order_id":"o1","customer_id":"c1","ordered_at":"2024-01-01","status":"completed"}\n'
        '{"order_id":"o2","Order_ID":"o9","customer_id":"c1","ordered_at":"2024-01-01",'
        '"status":"completed"}\n'
        '{"order_id":"o3","customer_id":"c1","ordered_at":"2024-01-01","status":"completed"}\n',
    )
    [result] = _load(tmp_path).files
    assert result.status == "loaded"
    assert (result.rows_landed, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [(file, line, column, rule, reason)] = _quarantine(tmp_path)
    assert (file, line, column, rule) == ("sales/orders/orders.jsonl", 2, None, "well_formed_line")
    assert "Order_ID, order_id" in reason and "ambiguous" in reason


def test_json_keys_that_are_empty_or_hold_quotes_load_as_extra_columns(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.jsonl",
        '{"order_id":"o1","customer_id":"c1","ordered_at":"2024-01-01","status":"completed",'
        '"":"x","we\\"ird":"y","a.b/c":"z"}\n'
        '{"order_id":"o2","customer_id":"c1","ordered_at":"2024-01-01","status":"completed"}\n',
    )
    [result] = _load(tmp_path).files
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 0)
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute("select order_id from raw.sales__orders order by 1").fetchall() == [
            ("o1",),
            ("o2",),
        ]


def test_a_trailing_delimiter_on_every_line_is_not_a_column(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.csv",
        "order_id,customer_id,ordered_at,status,\n"
        "o1,c1,2024-01-01,completed,\n"
        "o2,c1,2024-01-02,bogus,\n",
    )
    [result] = _load(tmp_path).files
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 1, 1)
    assert _quarantine(tmp_path)[0][1:4] == (3, "status", "accepted_values")


def test_file_names_with_glob_characters_are_read_as_names(tmp_path):
    # DuckDB reads [, * and ? in a path as a pattern: export[1].csv would match export1.csv
    landing = tmp_path / "landing"
    files = {
        "export[1].csv": "o1",
        "export1.csv": "o2",
        "export*.csv": "o3",
        "export?.csv": "o4",
    }
    for name, order_id in files.items():
        _land(landing, name, HEADER + f"{order_id},c1,2024-01-01,completed\n")
    report = _load(tmp_path)
    assert sorted((f.rows_landed, f.rows_loaded) for f in report.files) == [(1, 1)] * 4
    with connection(tmp_path / "w.duckdb") as con:
        loaded = con.execute(
            "select raw.order_id, files.file_path from raw.sales__orders as raw "
            "join ingest.load_manifest as files on raw._load_id = files.load_id order by 1"
        ).fetchall()
    assert loaded == sorted((o, f"sales/orders/{n}") for n, o in files.items())


def test_upper_case_suffixes_are_read_like_lower_case(tmp_path):
    landing = tmp_path / "landing"
    _land(
        landing, "ORDERS.CSV.GZ", gzip.compress((HEADER + "o1,c1,2024-01-01,completed\n").encode())
    )
    _land(
        landing,
        "MORE.JSONL.GZ",
        gzip.compress(
            b'{"order_id":"o2","customer_id":"c1","ordered_at":"2024-01-01","status":"completed"}\n'
        ),
    )
    report = _load(tmp_path)
    assert sorted((f.status, f.rows_loaded) for f in report.files) == [("loaded", 1)] * 2


def test_one_bad_line_is_quarantined_where_the_reader_can_resynchronise(tmp_path):
    landing = tmp_path / "landing"
    good = "".join(f"o{i},c1,2024-01-01,completed\n" for i in range(200))
    # an invalid byte on the last line, a quote opened on the last line and never closed,
    # a blank line and a quoted line break before a bad row: each holds back its own line
    _land(landing, "bytes.csv", (HEADER + good).encode() + b"ox,caf\xe9,2024-01-01,completed\n")
    _land(landing, "quote.csv", HEADER + good + 'oq,"c1,2024-01-01,completed\n')
    _land(landing, "lines.csv", HEADER + 'ob,"c\n1",2024-01-01,completed\n\nbad,c1,2024-01-01,x\n')
    report = _load(tmp_path)
    outcome = {Path(f.file).name: (f.status, f.rows_loaded) for f in report.files}
    assert outcome == {
        "bytes.csv": ("loaded", 200),
        "quote.csv": ("loaded", 200),
        "lines.csv": ("loaded", 1),
    }
    held = {(Path(f).name, line, rule) for f, line, _, rule, _ in _quarantine(tmp_path)}
    assert held == {
        ("bytes.csv", 202, "well_formed_line"),
        ("quote.csv", 202, "well_formed_line"),
        # header, two lines of the quoted value, the blank line: the bad row is line 5
        ("lines.csv", 5, "accepted_values"),
    }


@pytest.mark.parametrize(
    ("content", "rule", "message_part"),
    [
        (
            HEADER + 'o1,"c1,2024-01-01,completed\no2,c1,2024-01-01,completed\n\n'
            "o3,c1,2024-01-01,completed\n",
            "balanced_quotes",
            "line 2 opens a quote that is never closed, so the 2 line(s) after it",
        ),
        (
            (HEADER + "o1,café,2024-01-01,completed\n" * 3).encode("latin-1"),
            "decodable",
            "3 of 3 lines hold invalid bytes (first on line 2)",
        ),
    ],
    ids=["quote-swallowing-lines", "another-encoding"],
)
def test_a_fault_no_record_after_can_be_read_with_confidence_rejects_the_file(
    tmp_path, content, rule, message_part
):
    _land(tmp_path / "landing", "orders.csv", content)
    [result] = _load(tmp_path).files
    assert result.status == "rejected" and message_part in result.error
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute("select rule from ingest.load_manifest").fetchall() == [(rule,)]


def test_a_repeated_header_and_a_column_named_like_the_line_number_are_not_data(tmp_path):
    _land(
        tmp_path / "landing",
        "orders.csv",
        HEADER.strip() + ",_row_number\n"
        "o1,c1,2024-01-01,completed,70\n" + HEADER.strip() + ",_row_number\n"
        "o2,c1,2024-01-02,completed,80\n",
    )
    [result] = _load(tmp_path).files
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    with connection(tmp_path / "w.duckdb") as con:
        assert con.execute(
            "select order_id, _row_number, _extra->>'_row_number_in_file' "
            "from raw.sales__orders order by 1"
        ).fetchall() == [("o1", 2, "70"), ("o2", 4, "80")]
    [(_, line, _, rule, reason)] = _quarantine(tmp_path)
    assert (line, rule) == (3, "well_formed_line") and reason.startswith("REPEATED HEADER")


def test_a_cut_off_last_line_after_a_blank_line_rejects_the_file_naming_its_line(tmp_path):
    _land(tmp_path / "landing", "orders.csv", HEADER + "o1,c1,2024-01-01,completed\n\no2,c1,20")
    [result] = _load(tmp_path).files
    assert result.status == "rejected" and "line 4 is cut off" in result.error


def test_a_repeated_header_with_a_byte_order_mark_is_held_back(tmp_path):
    # two Excel exports concatenated: the second one's header starts with U+FEFF
    content = (
        HEADER + "o1,c1,2024-01-01,completed\n\ufeff" + HEADER + "o2,c1,2024-01-02,completed\n"
    )
    _land(tmp_path / "landing", "orders.csv", content)
    [result] = _load(tmp_path).files
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert _quarantine(tmp_path)[0][1:4] == (3, None, "well_formed_line")


@pytest.mark.parametrize(
    ("encoding", "delimiter", "codec"),
    [("latin-1", ";", "latin-1"), ("utf-16", ",", "utf-16"), ("utf-8", "|", "utf-8")],
)
def test_a_contract_declares_its_files_encoding_and_delimiter(tmp_path, encoding, delimiter, codec):
    # what Excel and many CRMs write: Latin-1 or UTF-16, semicolons where commas are decimals
    rows = [
        "o1,café,2024-01-01,completed",
        "o2,Zoë,2024-01-02,bogus",
        "",
        "o3,c3,2024-01-03,refunded",
    ]
    text = (HEADER + "\n".join(rows) + "\n").replace(",", delimiter)
    _land(tmp_path / "landing", "orders.csv", text.encode(codec))
    declared = replace(ORDERS, encoding=encoding, delimiter=delimiter)
    with connection(tmp_path / "w.duckdb") as con:
        [result] = load_landing(con, tmp_path / "landing", "b1", [declared]).files
        loaded = con.execute(
            "select order_id, customer_id, _row_number from raw.sales__orders order by 1"
        ).fetchall()
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 1)
    assert loaded == [("o1", "café", 2), ("o3", "c3", 5)]
    assert _quarantine(tmp_path)[0][1:4] == (3, "status", "accepted_values")


def test_an_undeclared_encoding_or_delimiter_is_rejected_saying_what_to_declare(tmp_path):
    latin = (HEADER + "o1,café,2024-01-01,completed\n").encode("latin-1")
    _land(tmp_path / "landing", "latin.csv", latin)
    _land(tmp_path / "landing", "semicolons.csv", HEADER.replace(",", ";") + "o1;c1;2024-01-01\n")
    errors = {Path(f.file).name: f.error for f in _load(tmp_path).files}
    assert "declare the file's encoding" in errors["latin.csv"]
    assert "unless the contract declares delimiter: ';'" in errors["semicolons.csv"]
