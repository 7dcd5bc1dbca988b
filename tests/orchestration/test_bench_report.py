"""BENCHMARKS.md rows: one table per column layout, figures derived from the measurements."""

from orchestration.bench import HEADER, BenchResult, append_markdown


def _result() -> BenchResult:
    return BenchResult(
        scale=0.5,
        order_lines=1000,
        files_mb=2.0,
        baseline_load_s=2.0,
        full_build_s=20.0,
        rerun_unchanged_s=3.0,
        rerun_new_file_s=18.0,
        step_seconds={"raw_quality_gate": 1.0, "mart_quality_gate": 2.0, "dbt_models": 12.0},
        peak_rss_mb=500.0,
    )


def test_rows_share_one_header_and_report_ratio_and_gate_share(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    append_markdown(_result(), path)
    append_markdown(_result(), path)
    text = path.read_text()
    assert text.count(HEADER) == 1
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == 2
    cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    assert cells[7] == "10.0"  # 20 s full build / 2 s load
    assert cells[10] == "15%"  # (1 + 2) s of gates / 20 s
    assert cells[12].startswith("dbt_models 12.0s")


def test_an_older_table_gets_a_new_header_below_it(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n| when | old columns |\n| --- | --- |\n| x | y |\n")
    append_markdown(_result(), path)
    text = path.read_text()
    assert text.index("| x | y |") < text.index(HEADER)
