"""dbt run from a test the way the pipeline runs it: this interpreter's dbt, the project's
profile, the test's own target folder (parallel workers never share artifacts)."""

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from orchestration.lib.dbt import DBT_EXECUTABLE
from orchestration.lib.settings import DBT_PROJECT_DIR


def run_dbt(
    args: Sequence[str], dbt_vars: Mapping[str, object], target: Path
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(DBT_EXECUTABLE),
            *args,
            "--vars",
            json.dumps(dict(dbt_vars)),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
        ],
        capture_output=True,
        text=True,
    )
