"""Re-deliver a landing folder day by day, as a source system would: the history up to
some day in one delivery, then one delivery per day after it, with some rows late.

What the incremental test and the benchmark's daily run land. A row's day is the latest
of its contract's event times (``as_of_event_times``), so a correction (newer
``updated_at``) arrives on the day it was made; order lines travel with their order;
entities without event times (products, account managers, profiles, brand posts) arrive
in the history delivery. Deterministic: the same folder and arguments give the same files.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from ingestion.contracts import Contract, load_contracts
from ingestion.formats import file_format


@dataclass(frozen=True)
class DeliveryPlan:
    daily_deliveries: int = 3  # days after the history delivery, one delivery each
    late_share: float = 0.05  # rows of those days that arrive one or two days late
    very_late_share: float = 0.002  # history rows that only arrive with the last delivery
    # a points ledger arrives in order: a late earn would show a negative balance meanwhile
    always_on_time: tuple[str, ...] = ("crm__loyalty_events",)


def _open(path: Path, mode: str = "rt") -> IO[str]:
    if path.name.endswith(".gz"):  # level 1: writing at level 9 takes minutes at 10M lines
        return gzip.open(path, mode, compresslevel=1, encoding="utf-8", newline="")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8", newline="")


def _delimiter(path: Path) -> str:
    return "\t" if ".tsv" in path.name else ","


def _header(path: Path) -> list[str]:
    with _open(path) as handle:
        return next(csv.reader(handle, delimiter=_delimiter(path)), [])


def _records(path: Path) -> Iterator[tuple[dict, str | list[str]]]:
    """(record, the row as landed: a JSON line or the CSV fields) per row, in file order.
    Malformed rows travel as they are: the loader is there to quarantine them."""
    if file_format(path) == "jsonl":
        with _open(path) as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    record = {}
                yield (record if isinstance(record, dict) else {}), line
    else:
        with _open(path) as handle:
            rows = csv.reader(handle, delimiter=_delimiter(path))
            header = next(rows, [])
            for row in rows:
                yield dict(zip(header, row, strict=False)), row


def _day(record: dict, columns: tuple[str, ...]) -> date | None:
    """The latest event day of a row; unreadable dates (bad rows the loader will
    quarantine) do not count."""
    days = []
    for column in columns:
        try:
            days.append(date.fromisoformat(str(record.get(column) or "")[:10]))
        except ValueError:
            continue
    return max(days) if days else None


def _fraction(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for a row."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _delivered_name(relative: Path, index: int) -> Path:
    """``orders_0001.csv`` -> ``orders_0001_d02.csv``: every delivery's file has its own
    name, as a source's daily exports do."""
    name = relative.name
    suffix = "".join(relative.suffixes[-2:]) if name.endswith(".gz") else relative.suffix
    return relative.with_name(f"{name[: -len(suffix)]}_d{index:02d}{suffix}")


def _entity_files(landing: Path, contract: Contract) -> list[Path]:
    folder = landing / contract.landing_subdir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and file_format(p))


def split_into_deliveries(
    landing: Path, out: Path, plan: DeliveryPlan = DeliveryPlan()
) -> list[Path]:
    """Write ``out/delivery_00`` (the history) .. ``out/delivery_NN``, each shaped like a
    landing folder, and return them in delivery order. Files are split in parallel, one
    process per core: orders first, then the order lines that travel with them."""
    contracts = [c for c in load_contracts() if _entity_files(landing, c)]
    first_daily = _last_day(landing, contracts) - timedelta(days=plan.daily_deliveries - 1)
    deliveries = [out / f"delivery_{i:02d}" for i in range(plan.daily_deliveries + 1)]
    jobs = [
        (path, path.relative_to(landing), contract)
        for contract in contracts
        for path in _entity_files(landing, contract)
    ]
    # an order's lines travel with its first delivery, over every file that carries it
    # (a refund may arrive days after the order)
    order_delivery: dict[str, int] = {}
    in_history: set[str] = set()
    with ProcessPoolExecutor(max_workers=_cpus()) as pool:
        for lines_phase in (False, True):
            futures = [
                pool.submit(
                    _split_file,
                    path,
                    relative,
                    deliveries,
                    contract,
                    plan,
                    first_daily,
                    order_delivery,
                )
                for path, relative, contract in jobs
                if (contract.entity == "order_lines") == lines_phase
            ]
            for future in futures:
                later, history = future.result()
                in_history |= history
                for order, index in later.items():
                    order_delivery[order] = min(order_delivery.get(order, index), index)
            # only orders delivered after the history are named: other lines go with it
            order_delivery = {o: i for o, i in order_delivery.items() if o not in in_history}
    return deliveries


def _last_day(landing: Path, contracts: list[Contract]) -> date:
    """The day of the latest event: the generator's as-of day when it wrote one (its
    corrections are dated that day), else read from every row."""
    generation = landing / "_truth" / "generation.json"
    if generation.exists():
        return date.fromisoformat(json.loads(generation.read_text())["as_of"])
    return max(
        day
        for c in contracts
        if c.as_of_event_times
        for path in _entity_files(landing, c)
        for record, _ in _records(path)
        if (day := _day(record, c.as_of_event_times)) is not None
    )


def _delivery_of(
    contract: Contract,
    record: dict,
    plan: DeliveryPlan,
    first_daily: date,
    order_delivery: dict[str, int],
) -> int:
    if contract.entity == "order_lines":
        return order_delivery.get(str(record.get("order_id")), 0)
    key = "|".join(str(record.get(k)) for k in contract.primary_key)
    day = _day(record, contract.as_of_event_times)
    if contract.name in plan.always_on_time:
        if day is None or day < first_daily:
            return 0
        return min(1 + (day - first_daily).days, plan.daily_deliveries)
    if day is None or day < first_daily:
        late = _fraction(contract.name, key, "very late") < plan.very_late_share
        return plan.daily_deliveries if late and day is not None else 0
    index = 1 + (day - first_daily).days
    if _fraction(contract.name, key, "late") < plan.late_share:
        index += 1 + int(_fraction(contract.name, key, "days") * 2)
    return min(index, plan.daily_deliveries)


def _split_file(
    path: Path,
    relative: Path,
    deliveries: list[Path],
    contract: Contract,
    plan: DeliveryPlan,
    first_daily: date,
    order_delivery: dict[str, int],
) -> tuple[dict[str, int], set[str]]:
    """Write one landed file's rows to their deliveries. For orders, return the delivery
    of each order of this file that is not in the history, and the ids of those that are."""
    if not contract.as_of_event_times and contract.entity != "order_lines":
        target = deliveries[0] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        return {}, set()
    buckets: dict[int, list[str | list[str]]] = {}
    later_orders: dict[str, int] = {}
    for record, landed in _records(path):
        index = _delivery_of(contract, record, plan, first_daily, order_delivery)
        if contract.entity == "orders":
            order_id = str(record.get("order_id"))
            index = min(later_orders.get(order_id, index), index)
            later_orders[order_id] = index
        buckets.setdefault(index, []).append(landed)
    for index, rows in buckets.items():
        target = deliveries[index] / _delivered_name(relative, index)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _open(target, "wt") as handle:
            if file_format(path) == "jsonl":
                handle.writelines(str(line).rstrip("\n") + "\n" for line in rows)
            else:
                writer = csv.writer(handle, delimiter=_delimiter(path), lineterminator="\n")
                writer.writerow(_header(path))
                writer.writerows(rows)
    history = {order for order, index in later_orders.items() if not index}
    return {o: i for o, i in later_orders.items() if i}, history


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
