import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


def build_demo_warehouse(root, scale: float, seed: int):
    """Generate demo files under ``root`` and run the whole Dagster job on them."""
    from ingestion.demo.generator import GenerateOptions, generate
    from orchestration.runner import run_pipeline

    landing = root / "landing"
    generate(GenerateOptions(out=landing, scale=scale, seed=seed))
    warehouse = root / "warehouse.duckdb"
    assert run_pipeline(landing=landing, warehouse=warehouse)
    return landing, warehouse
