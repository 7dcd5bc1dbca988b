"""Retry a step that failed for a reason that passes: another process (a BI tool on the
working file, a DuckDB CLI someone left open) holding DuckDB's file lock.

Our own runs never collide (``run_lock``), but the working file can still be opened by
something else. Such a step is retried with exponential backoff (2, 4, 8 s); any other
error fails the step at once, so a real defect is not retried into a slower failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

TRANSIENT_MESSAGES = ("Could not set lock", "Conflicting lock")
MAX_RETRIES = 3
BASE_SECONDS = 2.0


def is_transient(error: BaseException) -> bool:
    return any(text in str(error) for text in TRANSIENT_MESSAGES)


@contextmanager
def retry_when_transient(context) -> Iterator[None]:
    """Inside an asset or check body: turn a transient failure into a retry request."""
    try:
        yield
    except Exception as exc:
        if not is_transient(exc):
            raise
        attempt = context.op_execution_context.retry_number
        wait = BASE_SECONDS * 2**attempt
        context.log.warning(
            f"The warehouse file is locked by another process; retry {attempt + 1} of "
            f"{MAX_RETRIES} in {wait:g} s: {str(exc).splitlines()[0]}"
        )
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from exc
