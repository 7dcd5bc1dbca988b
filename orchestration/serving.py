"""Write-audit-publish: copy the audited marts into a new file, then swap it in atomically.

Readers open the serving file read-only and never see the working file, a half-built
copy, or a run whose quality gate failed.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from warehouse.connection import connection

SERVED_SCHEMAS = ("marts", "quality")


def publish_serving_database(
    warehouse: Path, serving: Path, run_id: str, as_of: date
) -> dict[str, int | str]:
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
                    con.execute(
                        f"create table publish.{schema}.{name} as select * from {schema}.{name}"
                    )
                    tables += 1
            con.execute("create schema if not exists publish.audit")
            con.execute(
                "create table publish.audit.publish_log as "
                "select ? as run_id, cast(? as date) as as_of, now()::timestamp as published_at",
                [run_id, as_of],
            )
        finally:
            con.execute("detach publish")
    os.replace(staging_file, serving)
    return {"tables": tables, "run_id": run_id}
