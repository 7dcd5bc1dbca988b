"""Write-audit-publish: copy the audited marts into a new file, then swap it in atomically.

Readers open the serving file read-only and never see the working file, a half-built
copy, or a run whose quality gate failed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from ingestion.sql import ident
from orchestration.lib.personal_data import PersonalDataLeak, find_clear_emails, served_expression
from warehouse.connection import connection

SERVED_SCHEMAS = ("marts", "quality")


def publish_serving_database(
    warehouse: Path,
    serving: Path,
    run_id: str,
    as_of: date,
    personal_columns: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    salt: str | None = None,
) -> dict[str, int | str]:
    """Copy every served table into a new file and swap it in. With a ``salt``, the
    declared personal-data columns are copied as salted hashes and the copy is refused
    when any email-shaped text remains (``orchestration/lib/personal_data.py``); without
    one they are copied in clear."""
    personal_columns = personal_columns or {}
    serving.parent.mkdir(parents=True, exist_ok=True)
    staging_file = serving.with_name(serving.name + ".publishing")
    staging_file.unlink(missing_ok=True)
    tables = 0
    with connection(warehouse) as con:
        con.execute(f"attach '{staging_file}' as publish")
        try:
            for schema in SERVED_SCHEMAS:
                names = [
                    r[0]
                    for r in con.execute(
                        "select table_name from information_schema.tables "
                        "where table_catalog = current_database() and table_schema = ? "
                        "and table_type = 'BASE TABLE' order by table_name",
                        [schema],
                    ).fetchall()
                ]
                if not names:
                    continue
                con.execute(f"create schema if not exists publish.{schema}")
                for name in names:
                    kinds = personal_columns.get((schema, name), {})
                    columns = [
                        column
                        for (column,) in con.execute(
                            "select column_name from information_schema.columns "
                            "where table_catalog = current_database() and table_schema = ? "
                            "and table_name = ? order by ordinal_position",
                            [schema, name],
                        ).fetchall()
                    ]
                    select = ", ".join(served_expression(c, kinds.get(c), salt) for c in columns)
                    con.execute(
                        f"create table publish.{schema}.{ident(name)} as "
                        f"select {select} from {schema}.{ident(name)}"
                    )
                    tables += 1
            con.execute("create schema if not exists publish.audit")
            con.execute(
                "create table publish.audit.publish_log as "
                "select ? as run_id, cast(? as date) as as_of, now()::timestamp as published_at",
                [run_id, as_of],
            )
            leaks = find_clear_emails(con, "publish") if salt is not None else []
        finally:
            con.execute("detach publish")
    if leaks:
        staging_file.unlink(missing_ok=True)
        raise PersonalDataLeak(
            "not published: clear email addresses in " + ", ".join(leaks) + " (declare the "
            "column with meta personal_data in its dbt yml, or opt in to clear values with "
            "C360_SERVING_PERSONAL_DATA=clear)"
        )
    os.replace(staging_file, serving)
    return {"tables": tables, "run_id": run_id}
