"""``c360-dbt``: dbt as the run starts it, a child that ends when the run ends.

The same command line as ``dbt``; before dbt starts, a watcher ends this process when the
run that started it is gone (``warehouse.child_process``), so a killed run never leaves
dbt writing the warehouse behind it.
"""

from __future__ import annotations

import sys

from warehouse.child_process import end_with_parent


def main() -> None:
    end_with_parent()
    from dbt.cli.main import cli

    sys.exit(cli())
