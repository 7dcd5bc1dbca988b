"""A run with an as-of date equals a run on the same files truncated at that date, mart by
mart. Truncation here is written from the landing contract, independently of the SQL: a
row is dropped when any of its event or version times is after the as-of day, and a
resolution after it had not happened yet."""

import csv
import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ingestion.demo.generator import GenerateOptions, generate
from orchestration.runner import run_pipeline
from warehouse.connection import connection

AS_OF = "2024-06-30"
END = datetime.fromisoformat(AS_OF) + timedelta(days=1)
EVENT_TIMES = ("created_at", "updated_at", "occurred_at", "ordered_at", "responded_at", "posted_at")


def _after_end(value) -> bool:
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return False
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return False  # an unparseable value is the contract's business either way
    return moment.replace(tzinfo=None) >= END


def _visible(record: dict) -> bool:
    return not any(_after_end(record.get(column)) for column in EVENT_TIMES)


def _truncate_csv(text: str) -> str:
    lines = text.splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        fields = next(csv.reader([line]), [])
        if len(fields) != len(header):
            kept.append(line)  # malformed: left for the loader to quarantine
            continue
        record = dict(zip([h.strip().lower() for h in header], fields, strict=False))
        if not _visible(record):
            continue
        if "resolved_at" in record and _after_end(record["resolved_at"]):
            out = io.StringIO()
            csv.writer(out, lineterminator=line[len(line.rstrip("\r\n")) :] or "\n").writerow(
                [
                    v if h.strip().lower() != "resolved_at" else ""
                    for h, v in zip(header, fields, strict=False)
                ]
            )
            line = out.getvalue()
        kept.append(line)
    return "".join(kept)


def _truncate_jsonl(text: str) -> str:
    kept = []
    for line in text.splitlines(keepends=True):
        try:
            record = {k.lower(): v for k, v in json.loads(line).items()}
        except (ValueError, AttributeError):
            kept.append(line)
            continue
        if _visible(record):
            kept.append(line)
    return "".join(kept)


def truncate_landing(source: Path, target: Path) -> None:
    import gzip

    for path in sorted(source.rglob("*")):
        if path.is_dir() or "_truth" in path.parts:
            continue
        out = target / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        name = path.name.lower()
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
            mask = frame.apply(lambda row: _visible({k.lower(): v for k, v in row.items()}), axis=1)
            frame[mask].to_parquet(out, index=False)
        elif name.endswith((".csv", ".csv.gz")):
            raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
            data = _truncate_csv(raw.decode("utf-8")).encode("utf-8")
            out.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        elif name.endswith(".jsonl"):
            out.write_text(_truncate_jsonl(path.read_text()))
        else:
            shutil.copy(path, out)


def _marts(warehouse: Path) -> dict[str, list]:
    with connection(warehouse, read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        # bookkeeping columns (a leading underscore) name loads, which differ by warehouse
        return {
            t: sorted(
                map(
                    repr, con.execute(f"select columns(c -> c[1] <> '_') from marts.{t}").fetchall()
                )
            )
            for t in tables
        }


def _saved_identity_keys(warehouse: Path) -> int:
    with connection(warehouse, read_only=True) as con:
        return con.execute("select count(*) from identity_state.customer_keys").fetchone()[0]


def _as_of_date(warehouse: Path):
    with connection(warehouse, read_only=True) as con:
        return con.execute("select any_value(as_of_date) from marts.dim_customer_360").fetchone()[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """In one process: an as-of run on the full files, then plain runs (no as-of) on the
    truncated files and on the full files. Nothing of the first may leak into the others."""
    root = tmp_path_factory.mktemp("as_of")
    full = root / "full"
    generate(GenerateOptions(out=full, scale=0.004, seed=3))
    truncated = root / "truncated"
    truncate_landing(full, truncated)
    warehouses = {name: root / name / "warehouse.duckdb" for name in ("as_of", "truncated", "full")}
    assert run_pipeline(landing=full, warehouse=warehouses["as_of"], as_of=AS_OF)
    assert run_pipeline(landing=truncated, warehouse=warehouses["truncated"])
    assert run_pipeline(landing=full, warehouse=warehouses["full"])
    return warehouses


@pytest.fixture(scope="module")
def both_runs(runs):
    return _marts(runs["as_of"]), _marts(runs["truncated"])


def test_a_plain_run_after_an_as_of_run_in_one_process_is_a_latest_date_run(runs):
    """Regression: the as-of date once leaked through os.environ into the next run."""
    assert _as_of_date(runs["as_of"]).isoformat() == AS_OF
    assert _as_of_date(runs["full"]) > datetime.fromisoformat(AS_OF).date()
    assert _saved_identity_keys(runs["as_of"]) == 0  # an as-of run never rewrites keys
    assert _saved_identity_keys(runs["full"]) > 0
    assert _saved_identity_keys(runs["truncated"]) > 0


def test_as_of_run_equals_a_run_on_truncated_files_mart_by_mart(both_runs):
    as_of_run, truncated_run = both_runs
    assert set(as_of_run) == set(truncated_run)
    assert len(as_of_run) >= 25
    different = [t for t in as_of_run if as_of_run[t] != truncated_run[t]]
    assert different == []
    assert as_of_run["dim_customer_360"]  # not trivially equal


def test_the_as_of_date_is_recorded_in_the_marts(both_runs):
    as_of_run, _ = both_runs
    assert (
        f"datetime.date({int(AS_OF[:4])}, {int(AS_OF[5:7])}, {int(AS_OF[8:])})"
        in as_of_run["dim_customer_360"][0]
    )
