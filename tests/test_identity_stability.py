"""Customer keys across runs: a rerun on the same files changes nothing, unrelated new
data leaves every existing key alone, and a record bridging two customers merges them
into one surviving key, with the merge logged."""

from pathlib import Path

import pytest

from ingestion.demo.generator import GenerateOptions, generate
from ingestion.loader import load_landing
from orchestration.lib.settings import as_of_date_for_run, resolve_settings
from tests.dbt_cli import run_dbt
from warehouse.connection import connection


def run_pipeline(landing: Path, warehouse: Path) -> bool:
    """Ingest and `dbt build` (models, unit and data tests): what identity depends on. The
    orchestrated job with its GX gates is exercised by test_end_to_end; here the four
    successive builds skip it to keep the suite fast."""
    with connection(warehouse) as con:
        load_landing(con, landing, batch_id=f"batch-{len(list(landing.rglob('*')))}")
        settings = resolve_settings(landing_dir=str(landing), warehouse_path=str(warehouse))
        dbt_vars = settings.dbt_vars(as_of_date_for_run(settings, con))
    completed = run_dbt(["build", "--quiet"], dbt_vars, warehouse.parent / "dbt_target")
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    return completed.returncode == 0


def _snapshot(warehouse: Path, schemas=("staging", "marts")) -> dict[str, list]:
    with connection(warehouse, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {tuple(schemas)} order by all"
        ).fetchall()
        return {
            f"{s}.{t}": sorted(map(repr, con.execute(f"select * from {s}.{t}").fetchall()))
            for s, t in tables
        }


def _keys(warehouse: Path) -> dict[tuple[str, str], str]:
    with connection(warehouse, read_only=True) as con:
        rows = con.execute(
            "select record_source, record_id, customer_key from marts.customer_identity_map"
        ).fetchall()
    return {(source, record): key for source, record, key in rows}


def _write(landing: Path, relative: str, text: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Four runs on one warehouse; the state after each is captured."""
    root = tmp_path_factory.mktemp("stability")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(GenerateOptions(out=landing, scale=0.003, seed=5))
    runs = {}

    assert run_pipeline(landing=landing, warehouse=warehouse)
    runs["first"] = (_keys(warehouse), _snapshot(warehouse))

    assert run_pipeline(landing=landing, warehouse=warehouse)
    runs["rerun"] = (_keys(warehouse), _snapshot(warehouse))

    _write(
        landing,
        "crm/contacts/contacts_9001_new_people.csv",
        "contact_id,created_at,email,phone,first_name\n"
        "new-1,2020-01-01 00:00:00,brand.new.person@example.org,,Ada\n"
        "new-2,2020-01-02 00:00:00,another.new.person@example.org,+44 20 7946 0000,Bob\n",
    )
    assert run_pipeline(landing=landing, warehouse=warehouse)
    runs["unrelated"] = (_keys(warehouse), None)

    # bridge: a shop account carrying customer A's email and customer B's phone
    with connection(warehouse, read_only=True) as con:
        contacts = con.execute(
            """
            select m.customer_key, c.email, c.phone
            from staging.stg_crm__contacts c
            join marts.customer_identity_map m
              on m.record_source = 'crm_contact' and m.record_id = c.contact_id
            where m.component_size = 1
              -- both keys usable for linking (not placeholders): they appear as edges
              and exists (select 1 from intermediate.int_identity_edges e
                          where e.record_key = 'crm_contact:' || c.contact_id and e.key_id = 'email=' || c.email)
              and exists (select 1 from intermediate.int_identity_edges e
                          where e.record_key = 'crm_contact:' || c.contact_id and e.key_id = 'phone=' || c.phone)
            order by c.contact_id
            limit 2
            """
        ).fetchall()
        (a_key, a_email, _), (b_key, _, b_phone) = contacts
        origins = dict(
            con.execute(
                "select m.customer_key, r.rank_label from marts.customer_identity_map m "
                "join intermediate.int_identity_components r on r.record_key = m.key_origin_record "
                f"where m.customer_key in ('{a_key}', '{b_key}')"
            ).fetchall()
        )
    _write(
        landing,
        "sales/customers/customers_9002_bridge.csv",
        f"customer_id,email,phone,created_at\nbridge-1,{a_email},{b_phone},2024-06-01 00:00:00\n",
    )
    assert run_pipeline(landing=landing, warehouse=warehouse)
    with connection(warehouse, read_only=True) as con:
        log = con.execute(
            "select change_type, from_customer_key, to_customer_key, records_moved from marts.identity_merge_log"
        ).fetchall()
    runs["bridged"] = (_keys(warehouse), log)
    return runs, (a_key, b_key), min(origins, key=origins.get)


def test_rerun_on_the_same_files_changes_no_staging_or_mart_table(history):
    runs, _, _ = history
    first_keys, first_tables = runs["first"]
    rerun_keys, rerun_tables = runs["rerun"]
    assert rerun_keys == first_keys
    assert set(rerun_tables) == set(first_tables)
    for table in first_tables:
        assert rerun_tables[table] == first_tables[table], table


def test_unrelated_data_keeps_every_existing_key(history):
    runs, _, _ = history
    before, _ = runs["rerun"]
    after, _ = runs["unrelated"]
    assert {record: after[record] for record in before} == before
    new = {record: key for record, key in after.items() if record not in before}
    assert set(new) >= {("crm_contact", "new-1"), ("crm_contact", "new-2")}
    assert not set(new.values()) & set(before.values())  # new people are new customers


def test_bridging_record_merges_two_customers_into_one_logged_survivor(history):
    runs, (a_key, b_key), survivor = history
    before, _ = runs["unrelated"]
    after, log = runs["bridged"]
    retired = b_key if survivor == a_key else a_key
    moved = [r for r, k in before.items() if k == retired]
    assert after[("sales_customer", "bridge-1")] == survivor
    assert all(after[r] == survivor for r, k in before.items() if k in (a_key, b_key))
    assert retired not in set(after.values())
    # every other record keeps its key
    assert {r: after[r] for r, k in before.items() if k not in (a_key, b_key)} == {
        r: k for r, k in before.items() if k not in (a_key, b_key)
    }
    assert log == [("merged", retired, survivor, len(moved))]
