"""``c360 forget``: erase one person from the working warehouse on request.

The person is found through the identity graph: the records matching the request (an
email, a phone or a source record id) and every record resolved to the same customer.
Their rows leave raw, the quarantine, the replaced rows, identity state and snapshots in
one transaction; the caller then rebuilds every model from raw and publishes
(``c360 forget`` does both), so staging, intermediate, marts and the serving database
follow. A referral another customer made keeps its row, with the referred email cleared. The warehouse file is then
rewritten (``COPY FROM DATABASE``) so deleted rows do not linger in freed blocks, before
the rebuild and again after it; the serving copy and the PostgreSQL target (when
configured) lose the person at once, and export folders of earlier publishes are removed.
Last, every file under the data folder, the reports and Dagster's storage is read for
the person's emails and phones, and the receipt lists any that still holds one.

The receipt says what was removed and when, never the removed values (no ids, keys,
emails or phones), plus which landed files still hold the person: landing folders are
the source's deliveries, so those are redacted at the source.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.sql import ident, sql_str
from orchestration.serving import prune_exports
from warehouse.connection import connection

# raw table -> its columns that identify a person, and what each holds
PERSON_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "crm__contacts": (("contact_id", "crm_contact"), ("email", "email"), ("phone", "phone")),
    "crm__campaign_touches": (("contact_id", "crm_contact"), ("email", "email")),
    "crm__interactions": (("contact_id", "crm_contact"),),
    "crm__loyalty_events": (("contact_id", "crm_contact"),),
    "crm__survey_responses": (("contact_id", "crm_contact"),),
    "sales__customers": (
        ("customer_id", "sales_customer"),
        ("email", "email"),
        ("phone", "phone"),
    ),
    "sales__orders": (("customer_id", "sales_customer"),),
    "social__profiles": (("profile_id", "social_profile"), ("email", "email")),
    "social__interactions": (("profile_id", "social_profile"),),
}
# an email as the staging models read it: every whitespace and invisible character gone
STRIPPED = "regexp_replace({}, '[\\s\\p{{Z}}\\p{{Cf}}]', '', 'g')"
# rows that belong to a person through their parent row
CHILD_TABLES = {"sales__order_lines": ("order_id", "sales__orders", "order_id")}
# columns naming a person inside another person's row: cleared, the row is kept
CLEARED_COLUMNS = {"social__interactions": ("referred_email",)}


class NobodyFound(LookupError):
    """No record in the warehouse matches the request."""


@dataclass
class Person:
    """Everything that identifies one customer, gathered from the identity graph."""

    customer_keys: set[str] = field(default_factory=set)
    record_keys: set[str] = field(default_factory=set)
    ids: dict[str, set[str]] = field(default_factory=dict)  # record_source -> ids
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)  # E.164 as the marts hold them


def find_person(
    con: duckdb.DuckDBPyConnection, email: str = "", phone: str = "", source_id: str = ""
) -> Person:
    """The customer(s) whose records match the request, with all their records."""
    records = "intermediate.int_identity_records_unioned"
    keys = "intermediate.int_customer_keys_by_record"
    if email:
        match, value = "lower(trim(records.email)) = lower(trim(?))", email
    elif phone:
        match, value = "records.phone = c360_phone_e164(?, 'US')", phone
    else:
        source, _, record_id = source_id.rpartition(":")
        match = "records.record_id = ?" + (" and records.record_source = ?" if source else "")
        value = record_id
    parameters = [value] + ([source] if source_id and source else [])
    customer_keys = {
        k
        for (k,) in con.execute(
            f"select distinct keys.customer_key from {records} as records "
            f"join {keys} as keys using (record_key) where {match}",
            parameters,
        ).fetchall()
    }
    if not customer_keys:
        raise NobodyFound("no record in the warehouse matches the request")
    person = Person(customer_keys=customer_keys)
    rows = con.execute(
        f"select records.record_key, records.record_source, records.record_id, "
        f"records.email, records.phone from {records} as records "
        f"join {keys} as keys using (record_key) "
        f"where keys.customer_key in (select unnest(?))",
        [sorted(customer_keys)],
    ).fetchall()
    for record_key, record_source, record_id, record_email, record_phone in rows:
        person.record_keys.add(record_key)
        person.ids.setdefault(record_source, set()).add(record_id)
        if record_email:
            person.emails.add(record_email.lower())
        if record_phone:
            person.phones.add(record_phone)
    person.emails |= person.ids.get("email_seen", set())
    return person


def _parameter(holds: str) -> str:
    return {"email": "emails", "phone": "phones"}.get(holds, holds)


def _matches(column: str, holds: str) -> str:
    quoted = ident(column)
    if holds == "email":  # normalised as staging does it (macros/normalise.sql)
        return f"lower({STRIPPED.format(quoted)}) in (select unnest($emails))"
    if holds == "phone":  # read as the staging models read it, in the row's country
        return f"c360_phone_e164_in_country({quoted}, 'US', country) in (select unnest($phones))"
    return f"{quoted} in (select unnest(${_parameter(holds)}))"


def erase(con: duckdb.DuckDBPyConnection, person: Person) -> dict[str, dict[str, int]]:
    """Delete the person's rows; return rows removed and cleared per table."""
    parameters = {
        "emails": sorted(person.emails) or [""],
        "phones": sorted(person.phones) or [""],
        **{
            source: sorted(person.ids.get(source, set())) or [""]
            for source in ("crm_contact", "sales_customer", "social_profile")
        },
    }
    removed: dict[str, int] = {}
    cleared: dict[str, int] = {}
    landed_files: set[str] = set()

    def run(sql: str, names: list[str]) -> int:
        return con.execute(sql, {n: parameters[n] for n in names}).fetchone()[0]

    for table, columns in PERSON_COLUMNS.items():
        where = " or ".join(_matches(c, holds) for c, holds in columns)
        names = sorted({_parameter(holds) for _, holds in columns})
        for child, (child_column, parent, parent_column) in CHILD_TABLES.items():
            if parent == table:
                of_parent = (
                    f"{ident(child_column)} in "
                    f"(select {ident(parent_column)} from raw.{table} where {where})"
                )
                landed_files |= _files(con, f"raw.{child}", of_parent, parameters, names)
                removed[child] = run(f"delete from raw.{child} where {of_parent}", names)
        landed_files |= _files(con, f"raw.{table}", where, parameters, names)
        removed[table] = run(f"delete from raw.{table} where {where}", names)
        for column in CLEARED_COLUMNS.get(table, ()):
            holding = _matches(column, "email")
            landed_files |= _files(con, f"raw.{table}", holding, parameters, ["emails"])
            cleared[f"{table}.{column}"] = run(
                f"update raw.{table} set {ident(column)} = null where {holding}", ["emails"]
            )
    needles = sorted(
        person.emails | person.phones | {i for ids in person.ids.values() for i in ids}
    )
    # rows held back, and rows a file's new version replaced: each kept as its JSON text
    for kept in ("ingest.quarantine", "ingest.replaced_rows"):
        removed[kept] = con.execute(
            f"delete from {kept} where exists (select 1 from (select unnest(?) as needle) "
            f"where contains(lower({STRIPPED.format('record')}), lower(needle)))",
            [needles],
        ).fetchone()[0]
    keys = sorted(person.customer_keys)
    removed["identity_state.customer_keys"] = con.execute(
        "delete from identity_state.customer_keys where customer_key in (select unnest(?)) "
        "or record_key in (select unnest(?))",
        [keys, sorted(person.record_keys)],
    ).fetchone()[0]
    removed["identity_state.key_changes"] = con.execute(
        "delete from identity_state.key_changes where from_customer_key in (select unnest(?)) "
        "or to_customer_key in (select unnest(?))",
        [keys, keys],
    ).fetchone()[0]
    for (table,) in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'snapshots'"
    ).fetchall():
        removed[f"snapshots.{table}"] = con.execute(
            f"delete from snapshots.{ident(table)} where customer_key in (select unnest(?))",
            [keys],
        ).fetchone()[0]
    # incremental models may still hold the person's rows: the next build, whoever starts
    # it, rebuilds every model from raw (orchestration/lib/build_state.full_refresh_reason)
    if con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'ops' "
        "and table_name = 'dbt_invocations'"
    ).fetchone()[0]:
        con.execute("delete from ops.dbt_invocations")
    return {
        "rows_removed": {k: v for k, v in removed.items() if v},
        "rows_cleared": {k: v for k, v in cleared.items() if v},
        "landed_files_holding_the_person": sorted(landed_files),
    }


def _files(con, relation: str, where: str, parameters: dict, names: list[str]) -> set[str]:
    return {
        f
        for (f,) in con.execute(
            f"select distinct _source_file from {relation} where {where}",
            {n: parameters[n] for n in names},
        ).fetchall()
    }


def compact(warehouse: Path) -> None:
    """Rewrite the warehouse into a new file, so erased rows leave no freed blocks."""
    fresh = warehouse.with_name(warehouse.name + ".compacting")
    fresh.unlink(missing_ok=True)
    with connection(warehouse) as con:
        con.execute(f"attach {sql_str(str(fresh))} as fresh")
        name = con.execute("select current_database()").fetchone()[0]
        con.execute(f"copy from database {ident(name)} to fresh")
        con.execute("detach fresh")
    os.replace(fresh, warehouse)
    Path(str(warehouse) + ".wal").unlink(missing_ok=True)


def after_rebuild(
    warehouse: Path,
    exports: Path,
    receipt: Path,
    person: Person,
    scanned: list[Path],
    landing: Path,
) -> dict:
    """What erasure does once the rebuild without the person has published: rewrite the
    warehouse again (the rebuild freed the blocks of every model that still held them),
    remove every export folder but the new one (older publishes hold them), then read the
    bytes of every file under ``scanned`` (the data folder, reports, Dagster's storage and
    logs) for the person's emails and phones, and add all of it to the receipt."""
    compact(warehouse)
    removed = prune_exports(exports, keep=1) if exports.is_dir() else []
    holding = files_holding(person, [warehouse.parent, *scanned], skip=[receipt, landing])
    outcome = json.loads(receipt.read_text())
    outcome["after_rebuild"] = {
        "warehouse_rewritten": True,
        "export_folders_removed": len(removed),
        "export_folders_kept": ["latest"] if (exports / "latest").exists() else [],
        "folders_scanned": sorted({str(folder) for folder in [warehouse.parent, *scanned]}),
        "files_still_holding_the_person": holding,
    }
    receipt.write_text(json.dumps(outcome, indent=1) + "\n")
    return outcome["after_rebuild"]


def files_holding(person: Person, folders: list[Path], skip: list[Path]) -> list[str]:
    """Files under ``folders`` whose bytes hold one of the person's emails (any case) or
    phones: the check that no copy was missed. ``skip`` holds the receipt and the landing
    folder (the source's deliveries, listed in the receipt separately). Bytes only: a
    value inside compressed content (gzip, Parquet or DuckDB compression) is not seen,
    which is why the tests also read every table's values."""
    needles = [v.lower().encode() for v in person.emails | person.phones if len(v) >= 6]
    if not needles:
        return []
    pattern = re.compile(b"|".join(re.escape(n) for n in needles))
    overlap = max(len(n) for n in needles)
    found: set[str] = set()
    skip = [s.resolve() for s in skip]
    roots = {f.resolve() for f in folders if f.is_dir()}
    for folder in sorted(roots):
        if any(other in folder.parents for other in roots):
            continue  # read with the folder that holds it
        for path in folder.rglob("*"):
            if any(path == s or s in path.parents for s in skip):
                continue
            if path.is_symlink() or not path.is_file():
                continue
            if _holds(path, pattern, overlap):
                found.add(str(path))
    return sorted(found)


def _holds(path: Path, pattern: re.Pattern[bytes], overlap: int) -> bool:
    tail = b""
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                if pattern.search((tail + chunk).lower()):
                    return True
                tail = chunk[-overlap:]
    except FileNotFoundError:  # a temporary file (a write-ahead log) gone since listed
        return False
    return False


def erase_from_serving(serving: Path, person: Person) -> int:
    """Delete the person's rows from the published copy at once (a new copy swapped in),
    so BI users stop seeing them even before the next publish. Returns rows removed."""
    if not serving.exists():
        return 0
    copy = serving.with_name(serving.name + ".erasing")
    copy.unlink(missing_ok=True)
    removed = 0
    with duckdb.connect() as con:
        con.execute(f"attach {sql_str(str(serving))} as published (read_only)")
        con.execute(f"attach {sql_str(str(copy))} as erased")
        con.execute("copy from database published to erased")
    with duckdb.connect(str(copy)) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.columns "
            "where column_name = 'customer_key'"
        ).fetchall()
        for schema, table in tables:
            removed += con.execute(
                f"delete from {ident(schema)}.{ident(table)} where customer_key in (select unnest(?))",
                [sorted(person.customer_keys)],
            ).fetchone()[0]
    os.replace(copy, serving)
    return removed


def erase_from_postgres(serving: Path, dsn: str, rows_in_serving: int) -> int | str:
    """Publish the erased serving copy to the PostgreSQL target at once: its schemas
    replace the old ones whole (dropped with their table files), as every publish does.
    Returns the rows removed there, or why nothing was (the rebuild's publish retries)."""
    if not dsn:
        return "not configured"
    if not serving.exists():
        return "not published: no serving copy yet"
    from orchestration.serving_postgres import publish_to_postgres

    try:
        publish_to_postgres(serving, dsn)
    except Exception as exc:  # the database is down, say: the warehouse erasure stands
        return f"not published now ({str(exc).splitlines()[0]}); the rebuild's publish retries"
    return rows_in_serving


def forget(
    warehouse: Path,
    serving: Path,
    reports: Path,
    email: str = "",
    phone: str = "",
    source_id: str = "",
    postgres_dsn: str = "",
) -> tuple[dict, Person]:
    """Erase the person from the working warehouse, the serving copy and the PostgreSQL
    target (when configured) and write the receipt; the caller rebuilds and publishes,
    then calls ``after_rebuild`` with the person."""
    requested = "email" if email else "phone" if phone else "source_id"
    with connection(warehouse) as con:
        person = find_person(con, email, phone, source_id)
        con.execute("begin")
        try:
            outcome = erase(con, person)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    compact(warehouse)
    outcome["rows_removed"]["serving"] = erase_from_serving(serving, person)
    outcome["rows_removed"]["postgres"] = erase_from_postgres(
        serving, postgres_dsn, outcome["rows_removed"]["serving"]
    )
    receipt = {
        "erased_at": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "requested_by": requested,
        "customers": len(person.customer_keys),
        "records": {source: len(ids) for source, ids in sorted(person.ids.items())},
        **outcome,
        "note": "removed values are not recorded; rebuild and publish follow",
    }
    folder = reports / "erasures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"erasure-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.json"
    path.write_text(json.dumps(receipt, indent=1) + "\n")
    receipt["receipt"] = str(path)
    return receipt, person
