"""Data quality: Great Expectations suites over the warehouse."""

import sys as _sys
import warnings as _warnings

# Great Expectations imports PySpark when it is installed (the spark extra), and PySpark
# takes a process whose __main__ has neither a spec nor a file (one started with
# `python -c`: the GX validation server, a pytest-xdist worker) for a doctest run and
# exits it (pyspark.sql.connect.utils.check_dependencies: "Skipping doctests"). Naming a
# file for such a __main__ keeps the process alive; multiprocessing then runs that file,
# which does nothing, as its children's main module.
_main = _sys.modules.get("__main__")
if (
    _main is not None
    and getattr(_main, "__spec__", None) is None
    and not hasattr(_main, "__file__")
):
    from pathlib import Path as _Path

    _main.__file__ = str(_Path(__file__).with_name("process_main.py"))

# PySpark also warns, on import, that it does not support pandas 3 yet. Only the Spark
# engine runs PySpark; everywhere else the import is GX's, and the warning was noise on
# every run's terminal.
_warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
