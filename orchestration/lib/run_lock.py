"""One writer per warehouse: a run holds ``<warehouse>.lock`` from its start to its end.

DuckDB allows one writing process per file, and its own refusal ("Could not set lock on
file ...") comes mid-run, from whichever step loses. This lock is taken before any step
runs, for the whole run, with ``flock``: the kernel releases it when the holding process
ends, however it ends, so a killed run can never wedge the next one. The file names the
holder (run id, pid, start) so a refused run can say who is writing.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


class WarehouseBusy(RuntimeError):
    """Another run is writing the warehouse; the message names it and the file."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "run id unknown"
    return f"run id {holder.get('run_id')}, pid {holder.get('pid')}, since {holder.get('since')}"


class WriterLock:
    """The lock of one warehouse, held between ``acquire`` and ``release``."""

    def __init__(self, warehouse: Path):
        self.warehouse = warehouse
        self.path = lock_path(warehouse)
        self._fd: int | None = None

    def acquire(
        self,
        run_id: str,
        wait_seconds: float = 0.0,
        poll_seconds: float = 0.5,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        """Take the lock, waiting up to ``wait_seconds``; raise ``WarehouseBusy`` after.
        ``on_wait`` hears once who holds it, when this run starts waiting."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f" (waited {wait_seconds:g} s)" if wait_seconds else ""
                    raise WarehouseBusy(
                        f"another run ({_holder(self.path)}) is writing {self.warehouse}{waited}"
                    ) from None
                if on_wait is not None:
                    on_wait(_holder(self.path))
                    on_wait = None
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {
                    "run_id": run_id,
                    "pid": os.getpid(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ).encode(),
        )
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


@contextmanager
def writer_lock(warehouse: Path, run_id: str, wait_seconds: float = 0.0) -> Iterator[None]:
    lock = WriterLock(warehouse)
    lock.acquire(run_id, wait_seconds)
    try:
        yield
    finally:
        lock.release()
