import os

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(tmp_path_factory):
    """Runs record into a Dagster instance under the test's temporary folder, never into
    the repository's data/dagster."""
    os.environ["DAGSTER_HOME"] = str(tmp_path_factory.mktemp("dagster_home"))
    yield


def build_demo_warehouse(root, scale: float, seed: int):
    """Generate demo files under ``root`` and run the whole Dagster job on them."""
    from ingestion.demo.generator import GenerateOptions, generate
    from orchestration.runner import run_pipeline

    landing = root / "landing"
    generate(GenerateOptions(out=landing, scale=scale, seed=seed))
    warehouse = root / "warehouse.duckdb"
    assert run_pipeline(landing=landing, warehouse=warehouse)
    return landing, warehouse


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory):
    """Small generated landing files (scale 0.005), for tests that only load them."""
    from ingestion.demo.generator import GenerateOptions, generate

    out = tmp_path_factory.mktemp("landing")
    generate(GenerateOptions(out=out, scale=0.005, seed=7))
    return out


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory):
    """One demo warehouse per test worker, shared by the modules that only read it (the
    end-to-end figures, the personal-data scan, the report): (landing, warehouse)."""
    return build_demo_warehouse(tmp_path_factory.mktemp("demo"), scale=0.01, seed=11)
