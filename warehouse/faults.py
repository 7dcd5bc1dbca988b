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


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_POINT_ENV) != name:
        return
    os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)  # not reached: the group includes this process
