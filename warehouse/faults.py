"""Named crash points for the fault-injection tests (tests/reliability/test_faults.py).

With ``C360_CRASH_AT=<point>`` in its environment, a process that reaches that point is
killed with SIGKILL at once, together with its process group: what a machine losing
power or an out-of-memory kill of the run looks like (no cleanup, no ``finally``, dbt's
subprocess gone too). The tests start the run in a session of its own, so only the run
dies. Unset, as in every real run, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_POINT_ENV = "C360_CRASH_AT"
# ``<point>:alone`` kills only the process that reaches the point: its children (dbt, a GX
# validation) must then end by themselves (warehouse/child_process.py)
ALONE = ":alone"


def crash_point(name: str) -> None:
    wanted = os.environ.get(CRASH_POINT_ENV)
    if wanted == name:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    if wanted in (name, name + ALONE):
        os.kill(os.getpid(), signal.SIGKILL)
