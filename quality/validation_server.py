"""Imported first by the validation server (``quality.runner``'s forkserver), before
Great Expectations.

The server is started as ``python -c``, so its ``__main__`` has neither a spec nor a file.
Great Expectations imports PySpark when it is installed (the ``spark`` extra), and PySpark
takes a process whose ``__main__`` has neither for a doctest run and exits it
(``pyspark.sql.connect.utils.check_dependencies``): every gate then failed with
"EOFError: unexpected EOF". Naming the module the server runs as ``__main__``'s file
tells PySpark the truth: this is a program, not a doctest.
"""

import sys
from multiprocessing import forkserver

_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = forkserver.__file__
