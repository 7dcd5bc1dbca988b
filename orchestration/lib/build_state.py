"""Whether a dbt build would change anything: the fingerprint of its inputs.

A build's output is a function of the project code, the raw data and the settings dbt
reads. When none of them changed since the last full build, and the serving database
still holds that build, a rerun would only reproduce the same tables (reruns are
byte-identical), so the run skips dbt and everything after it. This is what makes a rerun
with nothing new landed cheap; `c360 run --rebuild` builds anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from orchestration.lib.settings import DBT_PROJECT_DIR, REPO_ROOT

# Python that dbt executes: the `warehouse` package (UDFs, their plugin, the CLV fit).
DBT_PYTHON_FILES = tuple(sorted((REPO_ROOT / "warehouse").glob("*.py")))
DBT_PROJECT_FOLDERS = ("models", "macros", "tests", "snapshots", "seeds", "analyses")
DBT_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml")
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "phonenumbers", "vadersentiment", "scipy")

BUILD_STATE_DDL = """
create schema if not exists ops;
create table if not exists ops.dbt_builds (
    run_id varchar,
    fingerprint varchar,
    built_at timestamp
);
create table if not exists ops.build_as_of (as_of_date date);
create table if not exists ops.dbt_invocations (
    run_id varchar,
    code_fingerprint varchar,
    as_of_pinned boolean,
    full_refresh boolean,
    built_at timestamp
);
"""


def _hash_files(digest: hashlib._Hash, root: Path, files: Iterable[Path]) -> None:
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())


def code_fingerprint(
    project_dir: Path = DBT_PROJECT_DIR, python_files: Iterable[Path] = DBT_PYTHON_FILES
) -> str:
    """Hash of every dbt project file, the Python dbt runs, and the engine versions."""
    digest = hashlib.sha256()
    project_files = [
        f
        for folder in DBT_PROJECT_FOLDERS
        for f in (project_dir / folder).rglob("*")
        if f.is_file() and "__pycache__" not in f.parts
    ] + [project_dir / name for name in DBT_PROJECT_FILES if (project_dir / name).exists()]
    _hash_files(digest, project_dir, project_files)
    for path in sorted(python_files):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for package in PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing".encode())
    return digest.hexdigest()


def raw_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Hash of the files loaded into raw (raw is append-only: its files are its content),
    plus each raw table's row count, so rows written around the loader count as a change."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema = 'raw' or (table_schema, table_name) = ('ingest', 'load_manifest') "
            "order by 1"
        ).fetchall()
    ]
    state: list[object] = [
        (name, con.execute(f"select count(*) from {name}").fetchone()[0])
        for name in tables
        if name.startswith("raw.")
    ]
    if "ingest.load_manifest" in tables:
        state += con.execute(
            "select source, entity, file_path, file_checksum, file_version "
            "from ingest.load_manifest where status = 'loaded' order by all"
        ).fetchall()
    return hashlib.sha256(repr(state).encode()).hexdigest()


def build_fingerprint(
    con: duckdb.DuckDBPyConnection, dbt_vars: Mapping[str, object], code: str | None = None
) -> str:
    """What a full dbt build depends on: code, raw data and the settings dbt reads."""
    parts = [code or code_fingerprint(), raw_fingerprint(con), repr(sorted(dbt_vars.items()))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def record_build_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """The as-of date the next dbt build reads (macro ``as_of_date``): kept in the warehouse
    rather than passed as a var, so a new date does not make dbt parse the project again."""
    con.execute(BUILD_STATE_DDL)
    con.execute("delete from ops.build_as_of")
    con.execute("insert into ops.build_as_of values (?)", [as_of])


def record_full_build(con: duckdb.DuckDBPyConnection, run_id: str, fingerprint: str) -> None:
    con.execute(BUILD_STATE_DDL)
    con.execute("insert into ops.dbt_builds values (?, ?, now()::timestamp)", [run_id, fingerprint])


def record_dbt_invocation(
    con: duckdb.DuckDBPyConnection, run_id: str, code: str, as_of_pinned: bool, full_refresh: bool
) -> None:
    """A dbt build that succeeded: what the next run's incremental models build on."""
    con.execute(BUILD_STATE_DDL)
    con.execute(
        "insert into ops.dbt_invocations values (?, ?, ?, ?, now()::timestamp)",
        [run_id, code, as_of_pinned, full_refresh],
    )


def incremental_basis(code: str, dbt_vars: Mapping[str, object]) -> str:
    """What the rows of the incremental models were built under: the project code and the
    settings dbt reads. Rows built with probabilistic matching off are no base for a build
    with it on (nor for another CLV holdout): a changed setting rebuilds from raw."""
    return hashlib.sha256(f"{code}\n{sorted(dbt_vars.items())!r}".encode()).hexdigest()


def full_refresh_reason(
    con: duckdb.DuckDBPyConnection, code: str, as_of_pinned: bool
) -> str | None:
    """Why this build must rebuild the incremental models from raw, or None when it can
    build on what the last successful build left.

    Incremental models hold the result of earlier builds, which is only valid for the same
    code and settings (``code`` is their ``incremental_basis``) and for the latest data: a
    pinned as-of build filters history, and the build after one must not build on it.
    """
    if as_of_pinned:
        return "an as-of run rebuilds from raw"
    con.execute(BUILD_STATE_DDL)
    last = con.execute(
        "select code_fingerprint, as_of_pinned, built_at from ops.dbt_invocations "
        "order by built_at desc limit 1"
    ).fetchone()
    if last is None:
        return "no earlier build of the incremental models"
    if last[1]:
        return "the last build was an as-of run"
    if last[0] != code:
        return "the dbt project, its Python or the settings it reads changed since the last build"
    if _rows_replaced_since(con, last[2]):
        # incremental models re-derive the keys loaded since; a key a file's new version
        # no longer holds has no new row to say so
        return "a file delivered again replaced rows of its earlier version since the last build"
    return None


def _rows_replaced_since(con: duckdb.DuckDBPyConnection, built_at: datetime) -> bool:
    has_table = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'ingest' and table_name = 'replaced_rows'"
    ).fetchone()[0]
    return bool(has_table) and bool(
        con.execute(
            "select count(*) from ingest.replaced_rows where replaced_at >= ?", [built_at]
        ).fetchone()[0]
    )


def last_full_build(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(run id, fingerprint) of the latest successful full dbt build, if any."""
    con.execute(BUILD_STATE_DDL)
    row = con.execute(
        "select run_id, fingerprint from ops.dbt_builds order by built_at desc limit 1"
    ).fetchone()
    return None if row is None else (row[0], row[1])


def published_run_id(serving: Path) -> str | None:
    """The run whose build the serving database holds, or None when there is none."""
    if not serving.exists():
        return None
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            row = con.execute("select run_id from audit.publish_log").fetchone()
    except duckdb.Error:
        return None
    return None if row is None else row[0]


def unchanged_since_publish(
    con: duckdb.DuckDBPyConnection, serving: Path, fingerprint: str
) -> str | None:
    """The run id of the published build this run would reproduce, or None."""
    last = last_full_build(con)
    if last is None or last[1] != fingerprint:
        return None
    return last[0] if published_run_id(serving) == last[0] else None
