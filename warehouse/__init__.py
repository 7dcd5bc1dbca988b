"""Code that runs inside the warehouse engine: how a DuckDB connection is opened, the
Python UDFs the SQL calls, the dbt-duckdb plugin that registers them, and the CLV math the
dbt Python models run.

This is the only package of ours that the dbt project imports, and it imports none of
ours: ingestion, quality and orchestration depend on it, never the reverse.
"""
