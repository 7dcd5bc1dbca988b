"""Packages depend one way and no module imports itself round a cycle.

    warehouse  <-  ingestion  <-  quality  <-  orchestration
        ^
        dbt_project (Python models, the profile's plugin)

``warehouse`` is the code that runs inside the engine; the dbt project may import it and
nothing else of ours.
"""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ["warehouse", "ingestion", "quality", "orchestration"]  # each may import the earlier


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at any depth (function-level imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _our_modules(root: Path) -> dict[str, Path]:
    return {
        _module_name(path, root): path
        for layer in LAYERS
        for path in (root / layer).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def _graph(root: Path) -> dict[str, set[str]]:
    modules = _our_modules(root)
    return {
        name: {imported for imported in _imports(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def layering_violations(root: Path = REPO) -> list[str]:
    wrong = []
    for module, imported in _graph(root).items():
        rank = LAYERS.index(module.split(".")[0])
        wrong += [
            f"{module} imports {other}"
            for other in imported
            if LAYERS.index(other.split(".")[0]) > rank
        ]
    return wrong


def import_cycles(root: Path = REPO) -> list[list[str]]:
    graph = _graph(root)
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                cycles.append(path[path.index(other) :] + [other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_packages_import_only_earlier_layers():
    assert layering_violations() == []


def test_no_import_cycles():
    assert import_cycles() == []


def test_dbt_imports_only_the_warehouse_package():
    ours = set(LAYERS)
    imported = set()
    for path in (REPO / "dbt_project" / "models").rglob("*.py"):
        imported |= {name for name in _imports(path) if name.split(".")[0] in ours}
    profiles = (REPO / "dbt_project" / "profiles.yml").read_text()
    imported |= set(re.findall(r"module:\s*([\w.]+)", profiles))
    assert imported, "expected the CLV models and the plugin to import the warehouse package"
    assert {name.split(".")[0] for name in imported} == {"warehouse"}


def test_the_checks_above_can_fail(tmp_path):
    """A planted backwards import and a planted cycle are found: the tests are not vacuous."""
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "warehouse" / "engine.py").write_text("from orchestration import jobs\n")
    (tmp_path / "orchestration" / "jobs.py").write_text("import orchestration.cli\n")
    (tmp_path / "orchestration" / "cli.py").write_text(
        "def main():\n    from orchestration.jobs import run\n"
    )
    assert "warehouse.engine imports orchestration.jobs" in layering_violations(tmp_path)
    assert ["orchestration.cli", "orchestration.jobs", "orchestration.cli"] in import_cycles(
        tmp_path
    )


def test_dbt_layers_point_forward():
    """Only staging reads sources; staging reads nothing but sources; intermediate never
    reads a mart. (Marts may read staging where there is nothing to do in between, as in
    dbt Labs' project-structure guide.)"""
    import json

    from orchestration.lib.dbt import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    layer = {
        uid: node["fqn"][1]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot")
    }
    backwards = []
    for uid, node in manifest["nodes"].items():
        if uid not in layer:
            continue
        for parent in node["depends_on"]["nodes"]:
            reads = "source" if parent.startswith("source.") else layer.get(parent)
            if reads == "source" and layer[uid] != "staging":
                backwards.append(f"{node['name']} reads a source")
            if layer[uid] == "staging" and reads not in ("source", None):
                backwards.append(f"{node['name']} reads {parent}")
            if layer[uid] == "intermediate" and reads == "marts":
                backwards.append(f"{node['name']} reads {parent}")
    assert backwards == []
