import dagster as dg

from orchestration.definitions import defs


def test_definitions_load_with_every_layer_in_one_graph():
    repo = defs.get_repository_def()
    keys = {"/".join(k.path) for k in repo.asset_graph.get_all_asset_keys()}
    assert "raw/sales__orders" in keys  # ingestion
    assert "marts/dim_customer_360" in keys and "staging/stg_sales__orders" in keys  # dbt
    assert "serving/warehouse" in keys  # publish
    check_names = {
        (("/".join(k.asset_key.path)), k.name) for k in repo.asset_graph.asset_check_keys
    }
    assert ("marts/dim_customer_360", "gx_error") in check_names  # GX
    assert ("raw/sales__orders", "gx_error") in check_names
    assert any(name.startswith("unique_") for _, name in check_names)  # dbt tests as checks
    # lineage: publish depends on the marts, the 360 on the raw orders (through dbt)
    graph = repo.asset_graph
    assert (
        dg.AssetKey(["marts", "dim_customer_360"])
        in graph.get(dg.AssetKey(["serving", "warehouse"])).parent_keys
    )
    assert (
        dg.AssetKey(["raw", "sales__orders"])
        in graph.get(dg.AssetKey(["staging", "stg_sales__orders"])).parent_keys
    )
    assert defs.resolve_job_def("c360_build_job") is not None


def test_every_dbt_node_is_keyed_by_its_real_relation_and_publish_waits_for_every_mart():
    import json

    from orchestration.lib.dbt import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    relations = {
        (node["schema"], node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot", "seed")
    }
    graph = defs.get_repository_def().asset_graph
    keys = {tuple(k.path) for k in graph.get_all_asset_keys()}
    assert relations <= keys
    assert ("snapshots", "customer_attributes_snapshot") in keys
    marts = {dg.AssetKey(list(r)) for r in relations if r[0] == "marts"}
    assert len(marts) >= 25
    assert marts <= graph.get(dg.AssetKey(["serving", "warehouse"])).parent_keys
    # dbt sources are the raw assets ingestion materialises, in the ingestion group
    assert graph.get(dg.AssetKey(["raw", "sales__orders"])).group_name == "ingestion"


def test_jobs_are_named_for_what_they_do():
    repo = defs.get_repository_def()
    jobs = {j.name for j in repo.get_all_jobs() if not j.name.startswith("__")}
    assert jobs == {"c360_build_job", "c360_full_refresh_job", "lifecycle_snapshot_job"}
    # the full-refresh job is the build job's selection with dbt --full-refresh
    rebuild = defs.resolve_job_def("c360_full_refresh_job")
    assert rebuild.run_config == {"resources": {"c360": {"config": {"full_refresh": True}}}}
    assert len(rebuild.asset_layer.executable_asset_keys) > 50
    assert rebuild.asset_layer.executable_asset_keys == (
        defs.resolve_job_def("c360_build_job").asset_layer.executable_asset_keys
    )
    assert {"c360_build_job_schedule", "lifecycle_snapshot_job_schedule"} == {
        s.name for s in repo.schedule_defs
    }
    assert {"landing_sensor", "run_failure_alert"} == {s.name for s in repo.sensor_defs}
