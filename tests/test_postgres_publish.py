"""The optional PostgreSQL target against a real PostgreSQL server (Debian's, started here
in a scratch folder): every served table arrives with its rows, values, types and
comments, and publishing again swaps in the new run whole."""

import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from orchestration.serving_postgres import postgres_type, publish_to_postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own: initdb, start, stop. PostgreSQL refuses to run as
    root, so as root it runs as the ``postgres`` user the Debian package creates."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    assert binaries, "Debian's postgresql is not installed (make postgres installs it)"
    bin_dir = Path(binaries[-1])
    root = Path(tempfile.mkdtemp(prefix="c360-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    subprocess.run(
        [*as_user, bin_dir / "initdb", "-D", data, "-U", "c360", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [
            *as_user,
            bin_dir / "pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-w",
            "-l",
            root / "log",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"host={root} port={port} user=c360 dbname=postgres"
    finally:
        subprocess.run([*as_user, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def _normal(value):
    """One text form per value on both sides (DuckDB's and psycopg's Python values)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)


def _checksum(rows) -> tuple[int, str]:
    lines = sorted("\x1f".join(str(_normal(v)) for v in row) for row in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture(scope="module")
def published(demo_build, postgres):
    _, warehouse = demo_build
    serving = warehouse.with_name("serving.duckdb")
    copied = publish_to_postgres(serving, postgres)
    return serving, copied


def _columns(source, schema: str, table: str) -> list[tuple[str, str, str | None]]:
    return source.execute(
        "select column_name, data_type, comment from duckdb_columns() where schema_name = ? "
        "and table_name = ? and database_name = current_database() order by column_index",
        [schema, table],
    ).fetchall()


def _served_tables(source) -> list[tuple[str, str]]:
    return source.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database()"
    ).fetchall()


def test_every_served_table_round_trips_with_its_rows_and_values(published, postgres):
    serving, copied = published
    with (
        duckdb.connect(str(serving), read_only=True) as source,
        psycopg.connect(postgres) as pg,
    ):
        tables = _served_tables(source)
        assert {f"{s}.{t}" for s, t in tables} == set(copied)
        assert any(s == "marts" for s, _ in tables)
        for schema, table in tables:
            columns = _columns(source, schema, table)
            # nested values travel as text: compare them as DuckDB writes them
            select = ", ".join(
                f'"{c}"' if postgres_type(t) else f'cast("{c}" as varchar)' for c, t, _ in columns
            )
            expected = _checksum(
                source.execute(f'select {select} from "{schema}"."{table}"').fetchall()
            )
            names = ", ".join(f'"{c}"' for c, _, _ in columns)
            actual = _checksum(pg.execute(f'select {names} from "{schema}"."{table}"').fetchall())
            assert actual == expected, f"{schema}.{table}"
            assert copied[f"{schema}.{table}"] == expected[0]


# PostgreSQL's spelling of the types publish_to_postgres creates
SPELLED = {"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone"}


def test_every_column_arrives_with_its_type_and_comment(published, postgres):
    serving, _ = published
    with (
        duckdb.connect(str(serving), read_only=True) as source,
        psycopg.connect(postgres) as pg,
    ):
        for schema, table in _served_tables(source):
            relation = f'"{schema}"."{table}"'
            assert pg.execute(f"select obj_description('{relation}'::regclass)").fetchone() == (
                source.execute(
                    "select comment from duckdb_tables() where schema_name = ? and table_name = ?",
                    [schema, table],
                ).fetchone()
            ), relation
            arrived = {
                column: (data_type, comment)
                for column, data_type, comment in pg.execute(
                    "select attname, format_type(atttypid, atttypmod), "
                    "col_description(attrelid, attnum) from pg_attribute "
                    f"where attrelid = '{relation}'::regclass and attnum > 0"
                ).fetchall()
            }
            for column, data_type, comment in _columns(source, schema, table):
                expected = postgres_type(data_type) or "text"
                expected = SPELLED.get(expected, expected.replace(", ", ","))
                assert arrived[column] == (expected, comment), f"{relation}.{column}"


def test_publishing_again_swaps_the_new_run_in_whole(published, postgres, tmp_path):
    serving, _ = published
    changed = tmp_path / "serving.duckdb"
    shutil.copy(serving, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("update audit.publish_log set run_id = 'the-next-run'")
        con.execute("delete from marts.dim_customer_360 where true")
    publish_to_postgres(changed, postgres)
    with psycopg.connect(postgres) as pg:
        assert pg.execute("select run_id from audit.publish_log").fetchall() == [("the-next-run",)]
        assert pg.execute("select count(*) from marts.dim_customer_360").fetchone() == (0,)
        leftovers = pg.execute(
            "select nspname from pg_namespace where nspname like '%\\_\\_publishing'"
        ).fetchall()
    assert leftovers == []


def test_forget_reaches_the_postgresql_target_at_once(published, postgres, tmp_path):
    from orchestration.erasure import forget

    built = published[0].with_name("warehouse.duckdb")
    for name in ("warehouse.duckdb", "warehouse.duckdb.salt", "serving.duckdb"):
        shutil.copy2(built.with_name(name), tmp_path / name)
    publish_to_postgres(tmp_path / "serving.duckdb", postgres)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        # a customer of several records, found by one of their emails
        customer_key, email, other_key = con.execute(
            "select customer_key, any_value(c.email), "
            "(select max(customer_key) from marts.dim_customer_360 where customer_key <> m.customer_key) "
            "from marts.customer_identity_map as m "
            "join marts.dim_customer_360 as c using (customer_key) where c.email is not null "
            "group by customer_key having count(*) >= 3 order by customer_key limit 1"
        ).fetchone()

    def rows_of(key: str) -> int:
        with psycopg.connect(postgres) as pg:
            tables = pg.execute(
                "select table_schema, table_name from information_schema.columns "
                "where column_name = 'customer_key' and table_schema in "
                "('marts', 'metrics', 'quality', 'audit')"
            ).fetchall()
            return sum(
                pg.execute(
                    f'select count(*) from "{schema}"."{table}" where customer_key = %s', [key]
                ).fetchone()[0]
                for schema, table in tables
            )

    assert rows_of(customer_key) > 0
    receipt, _ = forget(
        tmp_path / "warehouse.duckdb",
        tmp_path / "serving.duckdb",
        tmp_path / "reports",
        email=email,
        postgres_dsn=postgres,
    )
    assert rows_of(customer_key) == 0
    assert rows_of(other_key) > 0  # the check can see a customer's rows
    assert receipt["rows_removed"]["postgres"] == receipt["rows_removed"]["serving"] > 0
