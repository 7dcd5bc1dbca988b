"""Fault injection on real processes: a run killed with SIGKILL in each stage, then rerun,
ends equal to a run never interrupted; a full disk while writing the warehouse or the
serving copy gives an error naming the file and keeps the served copy.

Kills come from named crash points (``warehouse/faults.py``) so each lands where it
must; the kill itself is a real SIGKILL of the run's whole process group, dbt included,
or of the run's process alone, after which dbt must end by itself.
A full disk is the kernel's own refusal: the writing process runs under a file-size
limit (RLIMIT_FSIZE), so writes past it fail with EFBIG, as on a full volume.
"""

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from quality.table_hashes import table_hashes
from warehouse.connection import connection
from warehouse.faults import CRASH_POINT_ENV

pytestmark = pytest.mark.faults

C360 = str(Path(sys.executable).with_name("c360"))

# each stage of a run, in order; a run killed at one is rerun and killed at the next
STAGES = {
    "ingest.after_raw_insert": "ingestion, rows written to raw, transaction open",
    "dbt.mid_build": "dbt build, a third of the models written",
    # dbt is not signalled: it must end by itself when the run is gone, and the next run,
    # started at once, must meet no leftover writer
    "dbt.mid_build:alone": "dbt build, only the run's own process killed, dbt left running",
    "clv.scored": "CLV model (dbt Python), customers scored, table not written",
    "publish.mid_copy": "publish, the first served table copied",
}


def _run(landing: Path, warehouse: Path, crash_at: str | None = None, output=None):
    """``c360 run`` in a session of its own (a crash point kills its whole process group);
    with ``output`` (an open file for its output) the started process, not yet ended."""
    env = {**os.environ, "COLUMNS": "200"}
    if crash_at:
        env[CRASH_POINT_ENV] = crash_at
    command = [C360, "run", "--landing", str(landing), "--warehouse", str(warehouse)]
    if output is not None:
        return subprocess.Popen(
            command, env=env, start_new_session=True, stdout=output, stderr=subprocess.STDOUT
        )
    return subprocess.run(
        command,
        env=env,
        start_new_session=True,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _python(code: str, *args: str, env=None, limit_bytes: int | None = None):
    """``code`` in a fresh interpreter, in a session of its own; with ``limit_bytes`` no
    file it writes may grow past that size (and the limit raises EFBIG, not SIGXFSZ)."""

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, **(env or {})},
        start_new_session=True,
        preexec_fn=limit_file_size if limit_bytes else None,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _served_tables(serving: Path) -> dict[str, int]:
    with connection(serving, read_only=True) as con:
        return {
            f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }


def _alive_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies, already dead and
    only waiting to be reaped, do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _ended(group: int, seconds: float = 5) -> bool:
    """Whether every process of the group has ended within ``seconds``."""
    deadline = time.monotonic() + seconds
    while _alive_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive_in_group(group)


PUBLISH = (
    "import sys; from datetime import date; from pathlib import Path\n"
    "from orchestration.serving import publish_serving_database\n"
    "publish_serving_database(Path(sys.argv[1]), Path(sys.argv[2]), 'fault', date(2025, 1, 1))"
)


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table from /proc")
def test_a_run_killed_in_each_stage_then_rerun_equals_an_uninterrupted_run(
    demo_build, tmp_path, record_property
):
    landing, reference = demo_build
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    for point, stage in STAGES.items():
        output = tmp_path / f"{point}.log"
        with output.open("w") as log:
            killed = _run(landing, warehouse, crash_at=point, output=log)
            returncode = killed.wait(timeout=900)
        assert returncode == -signal.SIGKILL, output.read_text()[-3000:]
        # no process of the killed run goes on (dbt and GX children end with the run)
        assert _ended(killed.pid), f"a process of the run killed at {point} is still running"
        # nothing half-built is ever served
        assert not serving.exists()
        record_property("kind", f"SIGKILL during {stage}")
        record_property(
            "outcome",
            "the run and every process it started ended at once (no cleanup); nothing was "
            "served; the next run, started at once, recovered",
        )
    final = _run(landing, warehouse)
    assert final.returncode == 0, final.stdout[-3000:]
    assert table_hashes(warehouse) == table_hashes(reference)
    assert _served_tables(serving) == _served_tables(reference.with_name("serving.duckdb"))
    assert not serving.with_name(serving.name + ".publishing").exists()
    record_property("kind", "rerun after the five kills above, one after another")
    record_property(
        "outcome",
        "every mart and snapshot table hash-identical to an uninterrupted run on the same "
        "files; the serving database holds every mart with the same row counts",
    )

    # a kill while publishing over a served copy: the served file is untouched
    before = _digest(serving)
    killed = _python(
        PUBLISH, str(warehouse), str(serving), env={CRASH_POINT_ENV: "publish.mid_copy"}
    )
    assert killed.returncode == -signal.SIGKILL
    assert _digest(serving) == before
    record_property("kind", "SIGKILL while publishing over a served copy")
    record_property("outcome", "the served file is byte-identical to the one before")

    # a full disk while writing the serving copy: a clear error, the served copy kept
    full = _python(PUBLISH, str(warehouse), str(serving), limit_bytes=256 * 1024)
    assert full.returncode == 1
    last_line = full.stderr.strip().splitlines()[-1]
    assert "PublishFailed: not published: writing the serving copy" in last_line
    assert str(serving) in last_line and "still holds the previous build" in last_line
    assert "File too large" in last_line
    assert _digest(serving) == before
    assert not list(tmp_path.glob("serving.duckdb.publishing*"))
    record_property("kind", "disk full while writing the serving copy")
    record_property("outcome", last_line.split(": ", 1)[1])


LOAD = (
    "import sys; from pathlib import Path; from ingestion.loader import load_landing\n"
    "from warehouse.connection import connection\n"
    "with connection(sys.argv[1]) as con: load_landing(con, Path(sys.argv[2]), 'b')"
)


def test_a_full_disk_while_loading_names_the_file_and_a_rerun_loads_everything(
    demo_landing, tmp_path, record_property
):
    landing = tmp_path / "landing"
    shutil.copytree(demo_landing, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    # the warehouse may not grow past a fraction of what the landing needs
    full = _python(LOAD, str(warehouse), str(landing), limit_bytes=2 * 1024 * 1024)
    assert full.returncode == 1
    last_line = full.stderr.strip().splitlines()[-1]
    assert "WarehouseWriteFailed: " in last_line and "not loaded, nothing of it kept" in last_line
    assert str(warehouse) in last_line and "File too large" in last_line
    record_property("kind", "disk full while loading into the warehouse")
    record_property("outcome", last_line)

    rerun = _python(LOAD, str(warehouse), str(landing))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    clean = tmp_path / "clean.duckdb"
    assert _python(LOAD, str(clean), str(landing)).returncode == 0

    def loaded(db: Path) -> dict[str, list]:
        with connection(db, read_only=True) as con:
            tables = [
                t
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'raw'"
                ).fetchall()
            ]
            return {
                t: sorted(
                    con.execute(
                        f"select * exclude (_load_id, _batch_id, _loaded_at) from raw.{t}"
                    ).fetchall(),
                    key=repr,
                )
                for t in tables
            }

    assert loaded(warehouse) == loaded(clean)
    record_property("kind", "rerun after the full disk")
    record_property("outcome", "every raw table equal to a load that never failed")
