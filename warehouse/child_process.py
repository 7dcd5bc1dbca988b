"""Processes that write the warehouse on behalf of a run end when that run ends.

A run's dbt process and its GX validation process each open the DuckDB file. If the run
dies (SIGKILL, out of memory) while they work, the kernel releases the run's writer lock
at once, but an orphaned child would go on writing, and the next run would meet DuckDB's
own file lock half-way through. A child that calls ``end_with_parent`` kills itself
within half a second of its parent's death, on Linux and macOS alike (it watches its
parent id, which changes when the parent dies and the child is adopted).
"""

from __future__ import annotations

import os
import signal
import threading
import time


def end_with_parent(interval: float = 0.5) -> None:
    """Watch the parent in a daemon thread; SIGKILL this process once the parent is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()
