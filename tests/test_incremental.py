"""Day-by-day deliveries built incrementally give exactly the marts of a full refresh.

Generated data is re-delivered as a source would send it (ingestion/demo/deliveries.py):
the history, then one delivery a day, with rows one or two days late (inside the lookback
window), rows months late (outside it: caught by their load, not their date) and
corrections of earlier rows. Each delivery lands and the daily job runs incrementally.
Then:
  * a full refresh of the same warehouse (every model rebuilt from raw) must leave every
    mart and snapshot table byte-for-byte as the incremental runs left it;
  * a fresh warehouse built in one run from all the files must hold the same figures. Its
    customer keys are named after each customer's earliest record as it stands now,
    whereas the day-by-day warehouse kept the keys it issued first (stable keys), so keys
    are compared through the records they hold.
"""

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion.demo.deliveries import DeliveryPlan, split_into_deliveries
from ingestion.demo.generator import GenerateOptions, generate
from orchestration.runner import execute_job
from quality.table_hashes import table_hashes

PLAN = DeliveryPlan(daily_deliveries=2, late_share=0.3, very_late_share=0.01)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    generate(GenerateOptions(out=root / "generated", scale=0.01, seed=11))
    deliveries = split_into_deliveries(root / "generated", root / "deliveries", PLAN)
    landing, warehouse = root / "landing", root / "daily" / "warehouse.duckdb"
    daily = []
    for delivery in deliveries:
        shutil.copytree(delivery, landing, dirs_exist_ok=True)
        daily.append(execute_job(landing=landing, warehouse=warehouse))
    # one more delivery touching one customer: a contact's new phone
    contact = _rows(deliveries[0], "crm/contacts").dropna(subset=["phone"]).iloc[0].copy()
    contact["updated_at"] = str(pd.Timestamp(contact["updated_at"]) + pd.Timedelta(hours=1))
    contact["phone"] = "+14155550199"
    contact.to_frame().T.to_csv(landing / "crm/contacts/contacts_9999_one_phone.csv", index=False)
    identity_before = _identity_rows(warehouse)
    kept_before = _kept_rows(warehouse)
    daily.append(execute_job(landing=landing, warehouse=warehouse))
    identity_after = _identity_rows(warehouse)
    kept_after = _kept_rows(warehouse)
    # an order moved to a customer id no other row knows, then back: that customer's
    # record appears, then vanishes (and the full refresh below must agree). Meanwhile a
    # touch names a contact not delivered yet and an email: the email's customer is
    # reached, until the contact arrives (with another email) and takes the touch.
    late_contact = {
        1: ("crm/campaign_touches/campaign_touches_9991_late_contact.csv", LATE_TOUCH),
        2: ("crm/contacts/contacts_9992_late_contact.csv", LATE_CONTACT),
    }
    latest = pd.concat(_orders(d) for d in deliveries).sort_values("updated_at")
    latest = latest.drop_duplicates("order_id", keep="last").dropna(subset=["customer_id"])
    order = latest.iloc[0].copy()
    orders_only_customer = []
    shared_value_customers = []
    for hours, customer_id in ((1, "ZZ-ORDERS-ONLY"), (2, order["customer_id"])):
        moved = order.copy()
        moved["customer_id"] = customer_id
        moved["updated_at"] = str(pd.Timestamp(order["updated_at"]) + pd.Timedelta(hours=hours))
        moved.to_frame().T.to_csv(
            landing / f"sales/orders/orders_999{hours}_moved.csv", index=False
        )
        name, text = late_contact[hours]
        (landing / name).write_text(text)
        # emails crossing var identity_max_records_per_value (3) both ways: family@ is
        # held by three contacts (a key), then by a fourth (a placeholder: no key);
        # group@ by four (no key), then one of them moves away (a key again)
        (landing / f"crm/contacts/contacts_999{hours}_shared.csv").write_text(
            SHARED_VALUE_CONTACTS[hours]
        )
        daily.append(execute_job(landing=landing, warehouse=warehouse))
        with duckdb.connect(str(warehouse), read_only=True) as con:
            shared_value_customers.append(
                dict(
                    con.execute(
                        "select record_id, customer_key from intermediate.int_customer_keys_by_record "
                        "where record_source = 'crm_contact' and record_id like 'C-SHARED-%'"
                    ).fetchall()
                )
            )
        with duckdb.connect(str(warehouse), read_only=True) as con:
            orders_only_customer.append(
                con.execute(
                    "select count(*) from intermediate.int_identity_records_unioned "
                    "where record_key = 'sales_customer:ZZ-ORDERS-ONLY'"
                ).fetchone()[0]
            )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        load_ids_kept = con.execute(
            "select count(distinct _last_load_id) from intermediate.int_orders_enriched"
        ).fetchone()[0]
    incremental = table_hashes(warehouse)
    identity = table_hashes(warehouse, schemas=("intermediate",), tables=IDENTITY_TABLES)
    kept = table_hashes(warehouse, schemas=("intermediate",), tables=KEPT_INTERMEDIATE)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        snapshot_before_refresh = con.execute(
            "select * from snapshots.customer_attributes_snapshot"
        ).df()
    refresh = execute_job(landing=landing, warehouse=warehouse, full_refresh=True)
    fresh = execute_job(landing=landing, warehouse=root / "fresh" / "warehouse.duckdb")
    return {
        "deliveries": deliveries,
        "daily": daily,
        "refresh": refresh,
        "fresh": fresh,
        "incremental": incremental,
        "load_ids_kept": load_ids_kept,
        "snapshot": snapshot_before_refresh,
        "identity": identity,
        "kept": kept,
        "one_contact": "crm_contact:" + contact["contact_id"],
        "identity_before": identity_before,
        "identity_after": identity_after,
        "kept_before": kept_before,
        "kept_after": kept_after,
        "orders_only_customer": orders_only_customer,
        "shared_value_customers": shared_value_customers,
    }


LATE_TOUCH = (
    "touch_id,touch_type,occurred_at,contact_id,email,campaign_id,channel\n"
    "T-LATE-1,send,2024-06-03 10:00:00,C-LATE-1,late.touch@example.org,CMP001,email\n"
)
LATE_CONTACT = (
    "contact_id,created_at,updated_at,email,phone,first_name,last_name,country,lead_source,"
    "account_manager_id,twitter_handle\n"
    "C-LATE-1,2024-06-01 09:00:00,2024-06-01 09:00:00,late.contact@example.org,,Lia,Late,GB,"
    "event,,\n"
)
CONTACT_HEADER = (
    "contact_id,created_at,updated_at,email,phone,first_name,last_name,country,lead_source,"
    "account_manager_id,twitter_handle\n"
)
SHARED_VALUE_CONTACTS = {
    1: CONTACT_HEADER
    + "".join(
        f"C-SHARED-F{i},2024-06-0{i} 09:00:00,2024-06-0{i} 09:00:00,family@example.org,,"
        f"Fam{i},Ily,GB,event,,\n"
        for i in (1, 2, 3)
    )
    + "".join(
        f"C-SHARED-G{i},2024-06-0{i} 09:00:00,2024-06-0{i} 09:00:00,group@example.org,,"
        f"Gro{i},Up,GB,event,,\n"
        for i in (1, 2, 3, 4)
    ),
    2: CONTACT_HEADER
    + "C-SHARED-F4,2024-06-04 09:00:00,2024-06-04 09:00:00,family@example.org,,Fam4,Ily,GB,"
    "event,,\n"
    + "C-SHARED-G4,2024-06-04 09:00:00,2024-06-05 09:00:00,g4.own@example.org,,Gro4,Up,GB,"
    "event,,\n",
}
# intermediate models kept per customer: equal to a full refresh as well
KEPT_INTERMEDIATE = ("int_customer_lifecycle_signals", "int_customer_profiles_survived")

IDENTITY_TABLES = (
    "int_identity_records_unioned",
    "int_identity_edges",
    "int_identity_components",
    "int_customer_keys_by_record",
)


def _identity_rows(warehouse: Path) -> pd.DataFrame:
    """Each record's component and the load id of the build that last wrote its rows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select components.record_key, components.component_label, "
            "records._last_load_id as records_load, components._last_load_id as components_load, "
            "keys._last_load_id as keys_load "
            "from intermediate.int_identity_components as components "
            "join intermediate.int_identity_records_unioned as records using (record_key) "
            "join intermediate.int_customer_keys_by_record as keys using (record_key)"
        ).df()


# Models kept per customer (or per record) rather than rebuilt: the key of each row and
# the load id of the build that last wrote it.
KEPT_TABLES = {
    "intermediate.int_customer_profiles_survived": "customer_key",
    "intermediate.int_customer_lifecycle_signals": "customer_key",
    "marts.fct_customer_lifecycle_history": "customer_key",
    "marts.customer_identity_map": "record_source || ':' || record_id",
}


def _kept_rows(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kept = {
            table: con.execute(f"select distinct {key} as key, _last_load_id from {table}").df()
            for table, key in KEPT_TABLES.items()
        }
        kept["as_of"] = con.execute("select as_of_date from ops.build_as_of").fetchone()[0]
        kept["undated"] = set(
            con.execute(
                "select keys.customer_key from intermediate.int_identity_records_unioned as r "
                "join intermediate.int_customer_keys_by_record as keys using (record_key) "
                "where r.first_seen_at is null"
            ).df()["customer_key"]
        )
        kept["customer_of"] = dict(
            con.execute(
                "select record_source || ':' || record_id, customer_key "
                "from marts.customer_identity_map"
            ).fetchall()
        )
        # the orders rebuilt by the last build (the lookback window is re-derived each run)
        kept["orders_rebuilt"] = set(
            con.execute(
                "select customer_key from intermediate.int_orders_enriched "
                "where _last_load_id = (select max(_last_load_id) "
                "from intermediate.int_orders_enriched)"
            ).df()["customer_key"]
        )
        kept["signal_days"] = con.execute(
            "select customer_key, signal_date from intermediate.int_customer_lifecycle_signals"
        ).df()
    return kept


def _rewritten(before: pd.DataFrame, after: pd.DataFrame) -> set:
    """Keys whose rows the build between ``before`` and ``after`` wrote (or removed)."""
    merged = before.merge(after, on="key", how="outer", suffixes=("_before", "_after"))
    changed = merged["_last_load_id_before"].ne(merged["_last_load_id_after"])
    return set(merged.loc[changed, "key"])


def _rows(delivery: Path, entity: str) -> pd.DataFrame:
    files = sorted((delivery / entity).glob("*.csv"))
    return pd.concat([pd.read_csv(f, dtype=str) for f in files]) if files else pd.DataFrame()


def _orders(delivery: Path) -> pd.DataFrame:
    return _rows(delivery, "sales/orders")


def test_the_deliveries_hold_late_rows_and_corrections(built):
    history, *days = built["deliveries"]
    first_daily_day = min(pd.to_datetime(_orders(days[0])["ordered_at"]).dt.date)
    late_in_window = very_late = 0
    for number, delivery in enumerate(days):
        ordered = pd.to_datetime(_orders(delivery)["ordered_at"]).dt.date
        delivered_on = first_daily_day + pd.Timedelta(days=number)
        late_in_window += ((ordered < delivered_on) & (ordered >= first_daily_day)).sum()
        very_late += (ordered < first_daily_day).sum()
    assert late_in_window > 0 and very_late > 0
    # contacts corrected after the history was delivered (new emails and phones move
    # records between customers: merges and splits)
    first_versions = set(_rows(history, "crm/contacts")["contact_id"])
    corrected = set().union(*(set(_rows(d, "crm/contacts").get("contact_id", [])) for d in days))
    assert corrected & first_versions


def test_every_daily_run_succeeds_and_builds_incrementally(built):
    assert all(o.success and o.published for o in built["daily"])
    warehouse = built["refresh"].settings.warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        modes = [
            full
            for (full,) in con.execute(
                "select full_refresh from ops.dbt_invocations order by built_at"
            ).fetchall()
        ]
    # the first build starts from raw, the daily ones build on it, the refresh from raw
    assert modes == [True, False, False, False, False, False, True]
    # rows written by earlier runs were kept, not rewritten
    assert built["load_ids_kept"] > 1


ATTRIBUTES = [
    "lifecycle_stage",
    "relationship_type",
    "rfm_segment",
    "loyalty_tier",
    "email",
    "phone",
    "country",
]


def test_the_attribute_snapshot_adds_a_version_only_when_a_customer_changed(built):
    snapshot = built["snapshot"].sort_values(["customer_key", "dbt_valid_from"])
    customers = snapshot["customer_key"].nunique()
    builds = len(built["daily"])
    # every version differs from the customer's version before it in some attribute
    previous = snapshot.groupby("customer_key")[ATTRIBUTES].shift(1)
    later = snapshot["customer_key"].duplicated()
    same = (
        (snapshot.loc[later, ATTRIBUTES].fillna("\0") == previous.loc[later].fillna("\0"))
        .all(axis=1)
        .sum()
    )
    assert same == 0
    # some customers changed over the days, most did not: the table grows with changes,
    # not by every customer on every day
    assert customers < len(snapshot) < customers * builds
    # one current version per customer
    assert snapshot["dbt_valid_to"].isna().sum() == customers


def test_a_full_refresh_gives_exactly_the_incremental_marts(built):
    assert built["refresh"].success and built["refresh"].published
    refreshed = table_hashes(built["refresh"].settings.warehouse)
    assert len(refreshed) > 25
    assert {t: h for t, h in refreshed.items() if built["incremental"].get(t) != h} == {}
    # the identity resolution too: records, keys, components and customer keys
    warehouse = built["refresh"].settings.warehouse
    identity = table_hashes(warehouse, schemas=("intermediate",), tables=IDENTITY_TABLES)
    assert len(identity) == len(IDENTITY_TABLES)
    assert {t: h for t, h in identity.items() if built["identity"].get(t) != h} == {}
    kept = table_hashes(warehouse, schemas=("intermediate",), tables=KEPT_INTERMEDIATE)
    assert len(kept) == len(KEPT_INTERMEDIATE)
    assert {t: h for t, h in kept.items() if built["kept"].get(t) != h} == {}


def test_an_email_too_many_records_hold_links_nobody_and_links_again_below_the_line(built):
    first, second = built["shared_value_customers"]
    family = [f"C-SHARED-F{i}" for i in (1, 2, 3, 4)]
    group = [f"C-SHARED-G{i}" for i in (1, 2, 3, 4)]
    # three contacts share family@ (one person's), four share group@ (nobody's)
    assert len({first[c] for c in family[:3]}) == 1
    assert len({first[c] for c in group}) == 4
    # a fourth contact gives family@: it links nobody now; group@ is down to three
    assert len({second[c] for c in family}) == 4
    assert len({second[c] for c in group[:3]}) == 1 and second["C-SHARED-G4"] not in {
        second[c] for c in group[:3]
    }


def test_a_record_no_source_yields_any_more_is_deleted(built):
    # present while an order named the customer, gone once the order moved back
    assert built["orders_only_customer"] == [1, 0]
    assert all(o.success and o.published for o in built["daily"][-2:])


def test_a_delivery_touching_one_customer_rewrites_only_its_components(built):
    before, after = built["identity_before"], built["identity_after"]
    assert built["daily"][-3].success and built["daily"][-3].published
    merged = before.merge(after, on="record_key", suffixes=("_before", "_after"))
    assert len(merged) == len(before) == len(after)
    # the contact's components, before and after its new phone
    contact = merged[merged["record_key"] == built["one_contact"]].iloc[0]
    touched = merged["component_label_before"].eq(contact["component_label_before"]) | merged[
        "component_label_after"
    ].eq(contact["component_label_after"])
    for stage in ("components_load", "keys_load"):
        rewritten = merged[f"{stage}_after"] != merged[f"{stage}_before"]
        assert rewritten[merged["record_key"] == built["one_contact"]].all()
        # nothing outside those components was written again
        assert not (rewritten & ~touched).any(), stage
        assert (~rewritten).sum() > 0.9 * len(merged)
    # the union rewrote the one record whose source row arrived
    records_rewritten = merged["records_load_after"] != merged["records_load_before"]
    assert merged.loc[records_rewritten, "record_key"].tolist() == [built["one_contact"]]
    # what is kept per customer or record was written again only for those components'
    # customers (and, for the lifecycle, customers whose dates follow the as-of date)
    kept_before, kept_after = built["kept_before"], built["kept_after"]
    records = set(merged.loc[touched, "record_key"])
    customers = {
        kept[key]
        for kept in (kept_before["customer_of"], kept_after["customer_of"])
        for key in records
        if key in kept
    }
    table = "marts.customer_identity_map"
    map_rewritten = _rewritten(kept_before[table], kept_after[table])
    assert built["one_contact"] in map_rewritten and map_rewritten <= records
    table = "intermediate.int_customer_profiles_survived"
    profiles_rewritten = _rewritten(kept_before[table], kept_after[table])
    assert profiles_rewritten and profiles_rewritten <= customers
    table = "intermediate.int_customer_lifecycle_signals"
    signals_rewritten = _rewritten(kept_before[table], kept_after[table])
    re_derived_every_run = (
        kept_before["undated"] | kept_after["undated"] | kept_after["orders_rebuilt"]
    )
    assert signals_rewritten <= customers | re_derived_every_run
    days = kept_after["signal_days"]
    reached = set(
        days.loc[
            (days["signal_date"] > pd.Timestamp(kept_before["as_of"]))
            & (days["signal_date"] <= pd.Timestamp(kept_after["as_of"])),
            "customer_key",
        ]
    )
    table = "marts.fct_customer_lifecycle_history"
    history_rewritten = _rewritten(kept_before[table], kept_after[table])
    assert history_rewritten <= signals_rewritten | reached
    every_customer = len(kept_after["intermediate.int_customer_profiles_survived"])
    assert len(history_rewritten) < 0.1 * every_customer


def _hashes_by_records(warehouse: Path) -> dict[str, tuple]:
    """Every mart's hash with each customer_key replaced by the earliest record it holds.
    Left out: the merge log (the history of one warehouse), key_origin_record (which
    record named the key) and action-list priorities, whose ties break by key name."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            "create temp table by_record as select customer_key, "
            "min(record_source || ':' || record_id) as first_record "
            "from marts.customer_identity_map group by customer_key"
        )
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_name <> 'identity_merge_log'"
        ).fetchall()
        for (table,) in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'marts' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in ("key_origin_record", "priority") and not c.startswith("_")
            ]
            select = ", ".join(
                "by_record.first_record" if c == "customer_key" else f'mart."{c}"' for c in columns
            )
            join = (
                "left join by_record on mart.customer_key = by_record.customer_key"
                if "customer_key" in columns
                else ""
            )
            out[table] = con.execute(
                "select count(*), md5(coalesce(string_agg(h, ',' order by h), '')) from "
                f"(select md5(row({select})::varchar) as h from marts.{table} as mart {join})"
            ).fetchone()
    return out


def test_a_fresh_one_shot_build_holds_the_same_figures(built):
    assert built["fresh"].success
    daily = _hashes_by_records(built["refresh"].settings.warehouse)
    fresh = _hashes_by_records(built["fresh"].settings.warehouse)
    assert len(fresh) > 25
    assert {t: h for t, h in fresh.items() if daily.get(t) != h} == {}
