"""The as-of date of a run that is not given one: the day of the latest event in raw.

Which columns are events is declared in the contracts (``as_of_event_times``), so a new
source's events count by adding its contract. Corrections count as events (an order's
``updated_at``): a refund recorded later is part of the latest state. The wall clock never
enters a figure, so reruns on the same data are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb

from ingestion.contracts import Contract, load_contracts


def latest_event_date(
    con: duckdb.DuckDBPyConnection, contracts: Iterable[Contract] | None = None
) -> date | None:
    """The date of the latest declared event time in raw, or None when raw has none."""
    existing = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    maxima = [
        f"select max({column}) as event_at from raw.{contract.name}"
        for contract in (load_contracts() if contracts is None else contracts)
        if contract.name in existing
        for column in contract.as_of_event_times
    ]
    if not maxima:
        return None
    (latest,) = con.execute(
        f"select cast(max(event_at) as date) from ({' union all '.join(maxima)})"
    ).fetchone()
    return latest
