"""dbt-duckdb plugin: applies the DuckDB resource limits and registers the Python UDFs the
SQL models call.

Only what SQL cannot do well lives in Python: phone parsing (libphonenumber rules) and
lexicon sentiment (VADER). Models call them through macros, so another engine can swap them.
"""

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from warehouse.connection import apply_resource_limits
from warehouse.udfs import register_udfs


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        apply_resource_limits(conn)  # the same memory, thread and spill limits as the rest
        # dbt's tables need not keep the order rows were produced in: no model relies on
        # it (the mart hashes are the same either way), and keeping it costs memory on
        # every large table (at 10M order lines the build ran out of its 2 GB with it).
        # The loader and the mapping keep it: their line numbers name rows in files.
        conn.execute("set preserve_insertion_order = false")
        register_udfs(conn)
