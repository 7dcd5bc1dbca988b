"""The demo generator in shards (how the benchmark makes 10M order lines in bounded memory):
keys stay unique across shards, references resolve across them, and the truth files
describe exactly what was written."""

import json

import duckdb
import pytest

from ingestion.demo.generator import GenerateOptions, generate


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    out = tmp_path_factory.mktemp("sharded")
    counts = generate(GenerateOptions(out=out, scale=0.004, seed=7, shard_persons=150))
    return out, counts


def _csv(out, pattern: str) -> str:
    return f"read_csv('{out}/{pattern}', all_varchar = true, union_by_name = true, filename = true)"


def test_each_shard_writes_its_own_files_and_the_catalogs_once(sharded):
    out, _ = sharded
    assert json.loads((out / "_truth" / "generation.json").read_text())["shards"] == 4
    orders = sorted(p.name for p in (out / "sales" / "orders").iterdir())
    assert orders[:3] == ["orders_0001.csv", "orders_0001_part02.csv", "orders_0001_part03.csv"]
    assert len(list((out / "sales" / "products").iterdir())) == 1
    assert len(list((out / "crm" / "account_managers").iterdir())) == 1


def test_keys_are_unique_across_shards_and_references_resolve(sharded):
    out, counts = sharded
    con = duckdb.connect()
    lines = con.sql(
        f"select count(*), count(distinct order_line_id) from {_csv(out, 'sales/order_lines/*.gz')}"
    ).fetchone()
    assert lines == (counts["sales/order_lines"], counts["sales/order_lines"])
    shards = 4  # each shard plants one exact duplicate order row
    orders = con.sql(
        f"select count(*), count(distinct order_id) from {_csv(out, 'sales/orders/orders_0001*')}"
    ).fetchone()
    assert orders == (counts["sales/orders"], counts["sales/orders"] - shards)
    unresolved = con.sql(
        f"""select count(*) from {_csv(out, "sales/order_lines/*.gz")} l
        anti join {_csv(out, "sales/orders/orders_0001*")} o using (order_id)"""
    ).fetchone()[0]
    assert unresolved == 0
    events = con.sql(
        f"""select count(*), count(distinct event_id)
        from read_json('{out}/crm/loyalty_events/*.jsonl', format = 'newline_delimited')"""
    ).fetchone()
    assert events[0] == events[1] == counts["crm/loyalty_events"]


def test_identity_truth_covers_every_record_of_every_shard_once(sharded):
    out, _ = sharded
    con = duckdb.connect()
    con.execute(f"create view truth as select * from read_csv('{out}/_truth/identity.csv')")
    for source, records in (
        ("crm_contact", f"select distinct contact_id from {_csv(out, 'crm/contacts/*0001*')}"),
        ("sales_customer", f"select customer_id from {_csv(out, 'sales/customers/*')}"),
        ("social_profile", f"select profile_id from {_csv(out, 'social/profiles/*')}"),
    ):
        written = {r[0] for r in con.sql(records).fetchall()}
        truth = {
            r[0]
            for r in con.sql(f"select record_id from truth where source = '{source}'").fetchall()
        }
        assert written == truth, source
    assert con.sql(
        "select count(*) - count(distinct (source, record_id)) from truth"
    ).fetchone() == (0,)


def test_every_planted_bad_row_is_where_the_truth_says(sharded):
    out, _ = sharded
    bad = duckdb.sql(
        f"select file, line, rule from read_csv('{out}/_truth/bad_rows.csv')"
    ).fetchall()
    files = {file for file, _, _ in bad}
    assert any("_part04" in file for file in files)
    for file, line, rule in bad:
        if rule != "well_formed_line":
            continue
        text = (out / file).read_text().splitlines()
        assert text[line - 1].endswith("EXTRA"), (file, line)
