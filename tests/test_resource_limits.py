"""DuckDB's memory, threads and spill folder come from the machine's settings, for the
pipeline's connections and dbt's alike."""

import duckdb

from warehouse.connection import connection
from warehouse.dbt_plugin import Plugin


def _settings(con) -> tuple[str, int, str, bool]:
    return con.execute(
        "select current_setting('memory_limit'), current_setting('threads'), "
        "current_setting('temp_directory'), current_setting('preserve_insertion_order')"
    ).fetchone()


def test_every_connection_applies_the_configured_limits(tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    monkeypatch.setenv("C360_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("C360_DUCKDB_THREADS", "1")
    monkeypatch.setenv("C360_DUCKDB_TEMP_DIRECTORY", str(spill))
    with connection(tmp_path / "w.duckdb") as con:
        memory, threads, temp, ordered = _settings(con)
    assert memory.startswith("667") and threads == 1 and temp == str(spill)  # 700 MB in MiB
    assert ordered is True  # the loader's line numbers name rows in files
    dbt_connection = duckdb.connect(str(tmp_path / "dbt.duckdb"))
    Plugin("warehouse", {}).configure_connection(dbt_connection)
    assert _settings(dbt_connection) == (memory, 1, str(spill), False)  # dbt's tables


def test_the_default_memory_limit_is_two_gigabytes(tmp_path, monkeypatch):
    for variable in ("C360_DUCKDB_MEMORY_LIMIT", "C360_DUCKDB_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    with connection(tmp_path / "w.duckdb") as con:
        memory, threads, _, _ = _settings(con)
    assert memory.startswith("1.8 GiB") and threads >= 1
