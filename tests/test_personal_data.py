"""Personal data policy: BI users of the serving database never see a clear email or
phone from the landing files; the working warehouse keeps them for identity resolution."""

import csv
import gzip
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.personal_data import PersonalDataLeak, salt
from orchestration.serving import publish_serving_database
from warehouse.connection import connection

PHONE_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")


@pytest.fixture(scope="module")
def built(demo_build):
    return demo_build


def _landed_rows(path: Path) -> list[dict]:
    """Every row of a landed CSV or JSON lines file, malformed ones included as far as
    they go (their values are landed data too)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        if ".jsonl" in path.name:
            rows = []
            for line in handle:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
            return [r for r in rows if isinstance(r, dict)]
        reader = csv.reader(handle)
        header = next(reader, [])
        return [dict(zip(header, row, strict=False)) for row in reader]


def _landed_identifiers(landing: Path) -> tuple[set[str], set[str]]:
    """Every email (trimmed, lower case) and phone (its last ten digits) in the files."""
    emails, phones = set(), set()
    for path in landing.rglob("*"):
        if "_truth" in path.parts or not path.is_file() or ".parquet" in path.name:
            continue
        for row in _landed_rows(path):
            for column, value in row.items():
                if value is None:
                    continue
                value = str(value)
                if "email" in column and "@" in value:
                    emails.add(value.strip().lower())
                if "phone" in column:
                    digits = re.sub(r"\D", "", value)
                    if len(digits) >= 7:
                        phones.add(digits[-10:])
    return emails, phones


def _landed_full_names(landing: Path) -> set[str]:
    """Every "first last" name pair in the files (trimmed, lower case)."""
    names = set()
    for path in landing.rglob("*"):
        if "_truth" in path.parts or not path.is_file() or ".parquet" in path.name:
            continue
        for row in _landed_rows(path):
            first, last = (str(row.get(c) or "").strip() for c in ("first_name", "last_name"))
            if first and last:
                names.add(f"{first} {last}".lower())
    return names


def _text_values(database: Path) -> dict[str, set[str]]:
    values = {}
    with connection(database, read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema <> 'information_schema'"
        ).fetchall()
        for schema, table, column in columns:
            rows = con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
            ).fetchall()
            values[f"{schema}.{table}.{column}"] = {r[0] for r in rows}
    return values


def _parquet_text_values(folder: Path) -> dict[str, set[str]]:
    values = {}
    with duckdb.connect() as con:
        for path in sorted(folder.rglob("*.parquet")):
            source = f"read_parquet('{path}')"
            for column, data_type, *_ in con.execute(f"describe select * from {source}").fetchall():
                if data_type != "VARCHAR":
                    continue
                rows = con.execute(
                    f'select distinct "{column}" from {source} where "{column}" is not null'
                ).fetchall()
                values[f"{path.name}.{column}"] = {r[0] for r in rows}
    return values


def test_no_landed_email_phone_or_name_reaches_the_serving_database_or_the_exports(built):
    landing, warehouse = built
    emails, phones = _landed_identifiers(landing)
    full_names = _landed_full_names(landing)
    assert len(emails) > 100 and len(phones) > 100 and len(full_names) > 100
    served = _text_values(warehouse.with_name("serving.duckdb"))
    exported = _parquet_text_values(warehouse.with_name("exports") / "latest")
    assert "dim_customer_360.parquet.email" in exported  # the exports were read
    leaks = []
    for column, values in {**served, **exported}.items():
        for value in values:
            found_email = any(e in value.lower() for e in re.findall(r"\S+@\S+", value))
            found_email = (
                found_email
                or value.strip().lower() in emails
                or any(part.lower() in emails for part in value.split(":"))
            )
            found_phone = any(
                re.sub(r"\D", "", run)[-10:] in phones for run in PHONE_RUN.findall(value)
            )
            found_name = value.strip().lower() in full_names
            if found_email or found_phone or found_name:
                leaks.append((column, value))
    assert leaks == []


def test_the_working_warehouse_keeps_clear_values_and_hashes_are_stable(built):
    landing, warehouse = built
    emails, _ = _landed_identifiers(landing)
    with connection(warehouse, read_only=True) as con:
        clear = con.execute(
            "select customer_key, email from marts.dim_customer_360 where email is not null"
        ).fetchall()
    with connection(warehouse.with_name("serving.duckdb"), read_only=True) as con:
        hashed = dict(
            con.execute(
                "select customer_key, email from marts.dim_customer_360 where email is not null"
            ).fetchall()
        )
        in_actions = con.execute(
            "select count(*) from marts.action_win_back_candidates as a "
            "join marts.dim_customer_360 as c using (customer_key) "
            "where a.email <> c.email or a.full_name <> c.full_name"
        ).fetchone()[0]
        names = con.execute(
            "select count(*), count(*) filter (where starts_with(full_name, 'sha256:') "
            "and coalesce(starts_with(first_name, 'sha256:'), true) "
            "and coalesce(starts_with(last_name, 'sha256:'), true)) "
            "from marts.dim_customer_360 where full_name is not null"
        ).fetchone()
    assert clear and {email for _, email in clear} <= emails
    assert all(hashed[key].startswith("sha256:") for key, _ in clear)
    assert len(set(hashed.values())) == len({email for _, email in clear})
    assert in_actions == 0  # one person, one hash, in every table
    assert names[0] > 0 and names[0] == names[1]


def test_an_undeclared_email_column_stops_the_publish_and_keeps_the_served_copy(tmp_path):
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.contacts as select 'ada@example.org' as note")
    serving.write_text("previous copy")
    with pytest.raises(PersonalDataLeak, match=r"marts\.contacts\.note"):
        publish_serving_database(
            warehouse, serving, "run", pd.Timestamp("2024-01-01").date(), {}, salt(warehouse)
        )
    assert serving.read_text() == "previous copy"
    assert not serving.with_name("serving.duckdb.publishing").exists()
    # declared, it is published as a hash
    publish_serving_database(
        warehouse,
        serving,
        "run",
        pd.Timestamp("2024-01-01").date(),
        {("marts", "contacts"): {"note": "email"}},
        salt(warehouse),
    )
    with connection(serving, read_only=True) as con:
        assert con.execute("select note from marts.contacts").fetchone()[0].startswith("sha256:")


def test_a_customer_name_in_an_undeclared_column_stops_the_publish(tmp_path):
    warehouse, serving = tmp_path / "w.duckdb", tmp_path / "serving.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_customer_360 as "
            "select 'cus_1' as customer_key, 'Ada Lovelace' as full_name"
        )
        # a name declared in another mart only (an action list's), not in the 360
        con.execute("create table marts.win_back as select 'Grace Hopper' as full_name")
        con.execute(
            "create table marts.call_notes as select 'call Ada Lovelace' as note, "
            "'Ada Lovelace' as addressee, 'Grace Hopper' as caller"
        )
    declared = {
        ("marts", "dim_customer_360"): {"full_name": "name"},
        ("marts", "win_back"): {"full_name": "name"},
    }
    with pytest.raises(
        PersonalDataLeak, match=r"marts\.call_notes\.addressee, marts\.call_notes\.caller"
    ):
        publish_serving_database(
            warehouse,
            serving,
            "run",
            pd.Timestamp("2024-01-01").date(),
            declared,
            salt(warehouse),
        )
    assert not serving.exists()
    # the declared column itself is served as a hash, one person one hash
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table marts.call_notes drop column addressee")
        con.execute("alter table marts.call_notes drop column caller")
    publish_serving_database(
        warehouse, serving, "run", pd.Timestamp("2024-01-01").date(), declared, salt(warehouse)
    )
    with connection(serving, read_only=True) as con:
        assert (
            con.execute("select full_name from marts.dim_customer_360")
            .fetchone()[0]
            .startswith("sha256:")
        )


def test_the_salt_is_configuration_or_a_private_file_beside_the_warehouse(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    assert salt(warehouse, {"C360_PII_SALT": "from-config"}) == "from-config"
    generated = salt(warehouse, {})
    path = Path(str(warehouse) + ".salt")
    assert len(generated) == 64 and path.stat().st_mode & 0o077 == 0
    assert salt(warehouse, {}) == generated  # reused, so hashes stay stable across runs
    json.dumps(generated)


# --- c360 forget: erasure on request


def _identifiers_of(warehouse: Path, customer_key: str) -> dict[str, set[str]]:
    with connection(warehouse, read_only=True) as con:
        records = con.execute(
            "select r.record_source, r.record_id, r.email, r.phone "
            "from intermediate.int_identity_records_unioned as r "
            "join intermediate.int_customer_keys_by_record as k using (record_key) "
            "where k.customer_key = ?",
            [customer_key],
        ).fetchall()
    return {
        "exact": {customer_key} | {r[1] for r in records} | {r[3] for r in records if r[3]},
        "emails": {r[2].lower() for r in records if r[2]},
        "phones": {r[3] for r in records if r[3]},  # E.164, as identity holds them
    }


def _traces(database: Path, identifiers: dict[str, set[str]]) -> list[tuple[str, str]]:
    found = []
    for column, values in _text_values(database).items():
        for value in values:
            lowered = value.lower()
            if value in identifiers["exact"] or any(e in lowered for e in identifiers["emails"]):
                found.append((column, value))
    return found


def _name_pairs(database: Path, pairs: set[tuple[str, str]]) -> int:
    """Rows of any table with both a first_name and a last_name column that hold one of
    ``pairs`` (names are not unique, so the pair is matched within one row)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_columns() "
            "where database_name = current_database() and column_name in ('first_name', 'last_name') "
            "group by all having count(*) = 2"
        ).fetchall()
        return sum(
            con.execute(
                f'select count(*) from "{schema}"."{table}" '
                "where (first_name, last_name) in (select unnest(?), unnest(?))",
                [[f for f, _ in pairs], [last for _, last in pairs]],
            ).fetchone()[0]
            for schema, table in tables
        )


def _keys_in_exports(exports: Path, customer_key: str) -> list[str]:
    """Export files (every run folder) holding a row of this customer."""
    found = []
    for path in sorted(exports.glob("*/*/*.parquet")):
        if path.parent.parent.is_symlink():
            continue  # `latest` points at one of the run folders
        with duckdb.connect() as con:
            columns = [c for (c, *_) in con.execute(f"describe select * from '{path}'").fetchall()]
            if (
                "customer_key" in columns
                and con.execute(
                    f"select count(*) from '{path}' where customer_key = ?", [customer_key]
                ).fetchone()[0]
            ):
                found.append(str(path.relative_to(exports)))
    return found


def test_forget_removes_every_trace_of_the_person_and_nobody_else(built, tmp_path):
    from typer.testing import CliRunner

    from orchestration.cli import app

    landing, built_warehouse = built
    for name in ("warehouse.duckdb", "warehouse.duckdb.salt", "serving.duckdb"):
        shutil.copy2(built_warehouse.with_name(name), tmp_path / name)
    # the exports of earlier publishes, which hold the person too
    shutil.copytree(built_warehouse.with_name("exports"), tmp_path / "exports", symlinks=True)
    warehouse = tmp_path / "warehouse.duckdb"
    with connection(warehouse, read_only=True) as con:
        # a customer of several records (contact, shop customer, social profile, ...)
        customer_key, email = con.execute(
            "select customer_key, any_value(c.email) from marts.customer_identity_map "
            "join marts.dim_customer_360 as c using (customer_key) "
            "where c.email is not null and c.phone is not null "
            "group by customer_key having count(*) >= 3 order by customer_key limit 1"
        ).fetchone()
        others_before = con.execute(
            "select record_source, record_id, customer_key from marts.customer_identity_map "
            "where customer_key <> ? order by all",
            [customer_key],
        ).fetchall()
        orders_before = con.execute(
            "select * exclude (_last_load_id) from intermediate.int_customer_orders_aggregated "
            "where customer_key <> ? order by customer_key",
            [customer_key],
        ).fetchall()
        other_emails = [
            e
            for (e,) in con.execute(
                "select distinct lower(email) from raw.crm__contacts where email is not null "
                "order by 1 limit 200"
            ).fetchall()
        ]
    identifiers = _identifiers_of(warehouse, customer_key)
    assert identifiers["emails"] and identifiers["phones"]
    with connection(warehouse, read_only=True) as con:
        # each name pair (first, last) that only one customer has: theirs and another's
        unique_pairs = con.execute(
            "select bool_or(k.customer_key = ?), r.first_name, r.last_name "
            "from intermediate.int_identity_records_unioned as r "
            "join intermediate.int_customer_keys_by_record as k using (record_key) "
            "where r.first_name is not null and r.last_name is not null "
            "group by r.first_name, r.last_name having count(distinct k.customer_key) = 1",
            [customer_key],
        ).fetchall()
    names = {(f, last) for erased, f, last in unique_pairs if erased}
    other_names = {(f, last) for erased, f, last in unique_pairs if not erased}
    assert names and _name_pairs(warehouse, names) > 0
    assert _traces(warehouse, identifiers)  # the scan finds them before
    assert _keys_in_exports(tmp_path / "exports", customer_key)
    # a contacts export of theirs that a new version of its file replaced: its rows are
    # kept in ingest.replaced_rows (as the loader moves them there)
    with connection(warehouse) as con:
        replaced = con.execute(
            "insert into ingest.replaced_rows select 0, 'crm', 'contacts', _source_file, "
            "_load_id, _row_number, json_object('contact_id', contact_id, 'email', email, "
            "'phone', phone)::varchar, now()::timestamp from raw.crm__contacts "
            "where lower(email) in (select unnest(?))",
            [sorted(identifiers["emails"])],
        ).fetchone()[0]
    assert replaced

    result = CliRunner().invoke(
        app,
        [
            "forget",
            "--email",
            email.upper(),
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
        ],
    )
    assert result.exit_code == 0, result.output

    assert _traces(warehouse, identifiers) == []
    assert _traces(tmp_path / "serving.duckdb", identifiers) == []
    # nor their names, in any row of either, while another customer's still are
    assert _name_pairs(warehouse, names) == _name_pairs(tmp_path / "serving.duckdb", names) == 0
    assert _name_pairs(warehouse, other_names) > 0
    # no export folder keeps them: older ones are removed, the new one never held them
    assert _keys_in_exports(tmp_path / "exports", customer_key) == []
    assert len([p for p in (tmp_path / "exports").iterdir() if not p.is_symlink()]) == 1
    # nor do the warehouse file's bytes (no freed block), while other people's emails are
    # still found there, so the byte scan can see an email
    stored = warehouse.read_bytes()
    assert not any(e.encode() in stored for e in identifiers["emails"])
    assert any(e.encode() in stored for e in other_emails if e not in identifiers["emails"])
    # nor any other file this warehouse's runs wrote: serving copy, exports, reports
    # (the analytical report, Data Docs), the receipt
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert {".duckdb", ".parquet", ".html", ".json"} <= {p.suffix for p in written}
    erased = [v.lower().encode() for v in identifiers["emails"] | identifiers["phones"]]
    holding = [
        str(p.relative_to(tmp_path))
        for p in written
        if any(v in p.read_bytes().lower() for v in erased)
    ]
    assert holding == []
    # nor Dagster's storage and logs (run and event logs, materialisation and check
    # metadata, captured output) of every run in this session, the build's included
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    stored = [p for p in dagster_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in stored)
    assert [str(p) for p in stored if any(v in p.read_bytes().lower() for v in erased)] == []
    with connection(warehouse, read_only=True) as con:
        others_after = con.execute(
            "select record_source, record_id, customer_key from marts.customer_identity_map "
            "order by all"
        ).fetchall()
        orders_after = con.execute(
            "select * exclude (_last_load_id) from intermediate.int_customer_orders_aggregated "
            "order by customer_key"
        ).fetchall()
    assert others_after == others_before
    assert orders_after == orders_before
    receipts = list((tmp_path / "reports" / "erasures").glob("*.json"))
    assert len(receipts) == 1
    receipt = receipts[0].read_text()
    assert json.loads(receipt)["customers"] == 1
    # the receipt names every place it reached and what its own scan found
    places = json.loads(receipt)
    assert places["rows_removed"]["serving"] > 0
    assert places["rows_removed"]["postgres"] == "not configured"
    assert places["after_rebuild"]["files_still_holding_the_person"] == []
    assert str(dagster_home) in places["after_rebuild"]["folders_scanned"]
    assert not any(
        v.lower() in receipt.lower() for v in identifiers["exact"] | identifiers["emails"]
    )


def test_export_retention_keeps_the_newest_folders_and_the_one_latest_names(tmp_path):
    from orchestration.serving import prune_exports

    for age, run in enumerate(["r5", "r4", "r3", "r2", "r1"]):  # r1 oldest
        (tmp_path / run).mkdir()
        os.utime(tmp_path / run, (1_000_000 - age * 100, 1_000_000 - age * 100))
    (tmp_path / "latest").symlink_to(tmp_path / "r1")  # latest is never removed
    removed = prune_exports(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["r2", "r3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "r1", "r4", "r5"]
