"""dbt's unit tests (normalisation, identity merges and splits, stages, RFM edges, NPS
edges, ...): they check the SQL on fixed rows, so the suite runs them once, against a
built warehouse, instead of every production build running them."""

import shutil

from tests.dbt_cli import run_dbt


def test_every_dbt_unit_test_passes(demo_build, tmp_path):
    _, built = demo_build
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(built, warehouse)
    dbt_vars = {"warehouse_path": str(warehouse), "as_of_date": "2024-12-31"}
    result = run_dbt(["test", "--select", "test_type:unit"], dbt_vars, tmp_path / "target")
    assert result.returncode == 0, result.stdout[-3000:]
    summary = [line for line in result.stdout.splitlines() if "Done. PASS=" in line]
    passed = int(summary[-1].split("PASS=")[1].split()[0])
    assert passed >= 12 and "ERROR=0" in summary[-1]
