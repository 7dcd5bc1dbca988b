"""dbt-duckdb plugin: registers the Python UDFs the SQL models call.

Only what SQL cannot do well lives here: phone parsing (libphonenumber rules) and lexicon
sentiment (VADER). Models call them through macros, so another engine can swap them.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.sqltypes import DOUBLE, VARCHAR

from ingestion.identifiers import phone_to_e164, sentiment_compound


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.create_function(
            "c360_phone_e164", phone_to_e164, [VARCHAR, VARCHAR], VARCHAR, side_effects=False
        )
        conn.create_function(
            "c360_sentiment", sentiment_compound, [VARCHAR], DOUBLE, side_effects=False
        )
