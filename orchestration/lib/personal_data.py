"""Personal data in the serving database: what BI users see of emails, phones and names.

Which columns hold personal data is declared once, on the dbt columns
(``config: {meta: {personal_data: email | phone | name | record_id | record_key}}``), and read
from dbt's manifest. Publishing copies those columns as salted hashes
(``sha256:`` + 24 hex digits of SHA-256 over salt and value): the same person hashes the
same in every table and every run, so BI tools can still count and join on them, but the
value cannot be read back or looked up without the salt. The working warehouse keeps the
clear values (identity resolution needs them); a trusted serving target can opt in to
them with ``C360_SERVING_PERSONAL_DATA=clear``.

The salt is configuration, never data in the repository: ``C360_PII_SALT``, else a random
one created beside the warehouse (``<warehouse>.salt``, readable by its owner only) on the
first publish and reused after. Losing it changes every hash at the next publish.

A guard runs on the copy before it is swapped in: any email-shaped text, or any name of
two words or more that a column declared ``name`` holds in the warehouse, left in a served
column (a new column nobody declared, say) stops the publish, naming table and column.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import duckdb

from ingestion.sql import ident, sql_str

KINDS = ("email", "phone", "name", "record_id", "record_key")
HASH_PREFIX = "sha256:"
EMAIL_SHAPE = r"[^@\s]+@[^@\s]+\.[^@\s]+"


class PersonalDataLeak(RuntimeError):
    """Clear personal data in a served column; the message names it."""


def personal_columns(manifest: Path) -> dict[tuple[str, str], dict[str, str]]:
    """``{(schema, table): {column: kind}}`` from the dbt manifest's column meta."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for node in nodes:
        for name, column in node.get("columns", {}).items():
            meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
            kind = meta.get("personal_data")
            if kind is None:
                continue
            if kind not in KINDS:
                raise ValueError(f"{node['name']}.{name}: personal_data must be one of {KINDS}")
            relation = (node["schema"], node.get("alias") or node["name"])
            found.setdefault(relation, {})[name] = kind
    return found


def salt(warehouse: Path, environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    configured = env.get("C360_PII_SALT", "").strip()
    if configured:
        return configured
    path = Path(str(warehouse) + ".salt")
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _hashed(expression: str, secret: str) -> str:
    return f"{sql_str(HASH_PREFIX)} || left(sha256({sql_str(secret)} || {expression}), 24)"


def served_expression(column: str, kind: str | None, secret: str | None) -> str:
    """The select-list entry that copies ``column`` into the serving database."""
    quoted = ident(column)
    if kind is None or secret is None:
        return quoted
    if kind in ("email", "phone", "name"):
        return f"{_hashed(quoted, secret)} as {quoted}"
    if kind == "record_id":  # only an email_seen record's id is an email
        return (
            f"case when record_source = 'email_seen' then {_hashed(quoted, secret)} "
            f"else {quoted} end as {quoted}"
        )
    # record_key: '<record_source>:<record_id>'
    email_part = f"substr({quoted}, {len('email_seen:') + 1})"
    return (
        f"case when starts_with({quoted}, 'email_seen:') then "
        f"'email_seen:' || {_hashed(email_part, secret)} else {quoted} end as {quoted}"
    )


def find_clear_personal_data(
    con: duckdb.DuckDBPyConnection, catalog: str, full_names: str | None = None
) -> list[str]:
    """``schema.table.column`` of every text column in ``catalog`` holding an email, or a
    value of the one-column query ``full_names`` (the customers' clear full names, two
    words at least)."""
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = ? and data_type = 'VARCHAR' order by all",
        [catalog],
    ).fetchall()
    if full_names is not None:
        con.execute(f"create or replace temp table _clear_full_names as {full_names}")
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in columns:
        by_table.setdefault((schema, table), []).append(column)
    leaks = []
    for (schema, table), names in by_table.items():
        relation = f"{ident(catalog)}.{ident(schema)}.{ident(table)}"
        # one scan per table; the test for '@' spares most values the regular expression
        flags = ", ".join(
            f"bool_or(contains({ident(name)}, '@') and regexp_matches({ident(name)}, "
            f"{sql_str(EMAIL_SHAPE)}))"
            for name in names
        )
        emails = con.execute(f"select {flags} from {relation}").fetchone()
        hits = {name for name, hit in zip(names, emails, strict=True) if hit}
        if full_names is not None:
            # every column's values with a space, looked up in one join per table
            values = " union all ".join(
                f"select {position} as position, {ident(name)} as value from {relation} "
                f"where contains({ident(name)}, ' ')"
                for position, name in enumerate(names)
            )
            hits |= {
                names[position]
                for (position,) in con.execute(
                    f"select distinct position from ({values}) as spaced "
                    "semi join _clear_full_names on spaced.value = _clear_full_names.full_name"
                ).fetchall()
            }
        leaks += [f"{schema}.{table}.{name}" for name in names if name in hits]
    return leaks
