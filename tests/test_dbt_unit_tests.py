"""dbt's unit tests (normalisation, identity merges and splits, stages, RFM edges, NPS
edges, ...): they check the SQL on fixed rows, so the suite runs them once, against a
built warehouse, instead of every production build running them."""

import json
import shutil
import subprocess

from orchestration.lib.dbt import DBT_EXECUTABLE
from orchestration.lib.settings import DBT_PROJECT_DIR


def test_every_dbt_unit_test_passes(demo_build, tmp_path):
    _, built = demo_build
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(built, warehouse)
    dbt_vars = {"warehouse_path": str(warehouse), "as_of_date": "2024-12-31"}
    result = subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps(dbt_vars),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    passed = int(summary[-1].split("PASS=")[1].split()[0])
    assert passed >= 12 and "ERROR=0" in summary[-1]
