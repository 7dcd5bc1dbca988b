"""The documented entry points refuse bad settings at once and load from a plain shell."""

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from orchestration.cli import app

REPO = Path(__file__).resolve().parents[2]


def _one_line(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


def test_a_malformed_as_of_flag_is_refused_at_once_naming_the_flag(tmp_path):
    result = CliRunner().invoke(
        app, ["run", "--landing", str(tmp_path), "--as-of", "2024-13-45"], terminal_width=200
    )
    assert result.exit_code == 2
    assert "--as-of" in result.output
    assert "2024-13-45" in _one_line(result.output)
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_a_malformed_as_of_variable_is_refused_naming_the_variable(tmp_path):
    result = CliRunner().invoke(
        app, ["run", "--landing", str(tmp_path)], env={"C360_AS_OF": "30/06/2024"}
    )
    assert result.exit_code == 2
    assert "C360_AS_OF" in _one_line(result.output)


def test_a_malformed_exports_keep_variable_is_refused_naming_the_variable(tmp_path):
    for bad in ("0", "three", "-1"):
        result = CliRunner().invoke(
            app, ["run", "--landing", str(tmp_path)], env={"C360_EXPORTS_KEEP": bad}
        )
        assert result.exit_code == 2, bad
        assert "C360_EXPORTS_KEEP" in _one_line(result.output), bad


def test_a_missing_landing_folder_is_refused_naming_it(tmp_path):
    missing = tmp_path / "no_such_folder"
    result = CliRunner().invoke(
        app, ["run", "--landing", str(missing), "--warehouse", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 2
    assert str(missing) in "".join(result.output.split("\n"))
    assert not (tmp_path / "w.duckdb").exists()


def test_the_code_location_loads_without_the_virtualenv_on_path():
    """What `make dagster` loads: dbt is found next to the interpreter, not on PATH."""
    venv_bin = Path(sys.executable).parent
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != venv_bin
    )
    # DAGSTER_IS_DEV_CLI: what `dagster dev` sets, under which dagster-dbt prepares projects
    env = {**os.environ, "PATH": path or "/usr/bin:/bin", "DAGSTER_IS_DEV_CLI": "1"}
    env.pop("VIRTUAL_ENV", None)
    completed = subprocess.run(
        [str(venv_bin / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "c360" in completed.stdout + completed.stderr
