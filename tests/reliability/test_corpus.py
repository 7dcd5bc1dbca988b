"""Each kind of bad input in the corpus, landed alone, loaded, and checked against its
asserted outcome; then loaded again, since no input may wedge a later run."""

from pathlib import Path

import pytest

from ingestion.loader import load_landing
from tests.reliability.corpus import CASES, Case
from warehouse.connection import connection

pytestmark = pytest.mark.corpus


def _land(case: Case, landing: Path) -> None:
    landing.mkdir()
    for relative, content in case.files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if case.make:
        case.make(landing)


def _outcome(con) -> str:
    """What the loader recorded, in words, for RELIABILITY.md."""
    parts = []
    for path, version, status, landed, loaded, corrected, replaced, error in con.execute(
        "select file_path, file_version, status, rows_landed, rows_loaded, rows_corrected, "
        "rows_replaced, error from ingest.load_manifest order by load_id"
    ).fetchall():
        why = error.split(": ", 1)[1] if error else ""
        parts.append(
            f"{path}{f' (version {version})' if version > 1 else ''}: {status}, "
            f"{loaded} of {landed} rows loaded"
            + (f", {corrected} correcting an earlier file's" if corrected else "")
            + (f", {replaced} of the earlier version replaced" if replaced else "")
            + (f"; {why}" if why else "")
        )
    for path, line, reason, rule in con.execute(
        "select file_path, row_number, left(reason, 160), rule from ingest.quarantine order by all"
    ).fetchall():
        parts.append(f"{path} line {line} quarantined: {reason} (rule: {rule})")
    return " | ".join(parts)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_input_gets_its_asserted_outcome(case: Case, tmp_path, record_property):
    record_property("group", case.group)
    record_property("kind", case.kind)
    landing = tmp_path / "landing"
    _land(case, landing)
    warehouse = tmp_path / "w.duckdb"
    with connection(warehouse) as con:
        load_landing(con, landing, "first")
        if case.redelivered:  # then files delivered again under their names, and loaded
            for relative, content in case.redelivered.items():
                (landing / relative).write_bytes(content)
            load_landing(con, landing, "redelivery")
        record_property("outcome", _outcome(con))
        # each file's latest version
        manifest = {
            path: (status, rule)
            for path, status, rule in con.execute(
                "select file_path, status, rule from ingest.load_manifest order by load_id"
            ).fetchall()
        }
        # every file named by the case is in its asserted state, and nothing else is
        assert {p: manifest.get(p) for p in case.manifest} == case.manifest
        quarantined = {
            (path, line): rule
            for path, line, rule in con.execute(
                "select file_path, row_number, rule from ingest.quarantine"
            ).fetchall()
        }
        assert quarantined == case.quarantined
        # every file reconciles: rows_landed = rows_loaded + rows_quarantined, never NULL
        assert (
            con.execute(
                "select count(*) from ingest.load_manifest where rows_landed is null "
                "or rows_landed <> rows_loaded + rows_quarantined"
            ).fetchone()[0]
            == 0
        )
        # rows held back carry the file, line, rule and a reason
        assert (
            con.execute(
                "select count(*) from ingest.quarantine where file_path is null "
                "or row_number is null or rule is null or coalesce(reason, '') = ''"
            ).fetchone()[0]
            == 0
        )
        if case.raw:
            query, rows = case.raw
            assert sorted(con.execute(query).fetchall()) == sorted(rows)
        recorded = con.execute("select count(*) from ingest.load_manifest").fetchone()[0]
        # no input wedges the next run: loading again works and records nothing new
        load_landing(con, landing, "second")
        assert con.execute("select count(*) from ingest.load_manifest").fetchone()[0] == recorded
    assert not (Path.cwd() / "pwned").exists()


def test_the_corpus_has_at_least_forty_kinds():
    assert len({c.kind for c in CASES}) == len(CASES) >= 40
