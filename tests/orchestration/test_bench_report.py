"""BENCHMARKS.md rows and BENCHMARKS.json: figures derived from the measurements."""

import json
import os

from orchestration.bench import HEADER, BenchResult, append_markdown, tree_rss_bytes, write_json


def _result(scale: float = 0.5, order_lines: int = 1000, full_s: float = 20.0) -> BenchResult:
    return BenchResult(
        scale=scale,
        order_lines=order_lines,
        files_mb=2.0,
        floor_s=2.0,
        full_s=full_s,
        noop_s=3.0,
        incremental_s=4.0,
        step_seconds={"raw_quality_gate": 1.0, "mart_quality_gate": 2.0, "dbt_models": 12.0},
        incremental_step_seconds={"dbt_models": 3.0},
        peak_rss_mb=500.0,
    )


def test_rows_share_one_header_and_report_ratios_and_gate_share(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    append_markdown(_result(), path)
    append_markdown(_result(), path)
    text = path.read_text()
    assert text.count(HEADER) == 1
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == 2
    cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    assert cells[7] == "10.0"  # 20 s full build / 2 s floor
    assert cells[9] == "20%"  # 4 s incremental / 20 s full
    assert cells[11] == "15%"  # (1 + 2) s of gates / 20 s
    assert cells[13].startswith("dbt_models 12.0s")


def test_an_older_table_gets_a_new_header_below_it(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n| when | old columns |\n| --- | --- |\n| x | y |\n")
    append_markdown(_result(), path)
    text = path.read_text()
    assert text.index("| x | y |") < text.index(HEADER)


def test_json_has_the_figures_per_size_and_the_growth_between_sizes_10x_apart(tmp_path):
    path = tmp_path / "BENCHMARKS.json"
    write_json([_result(1.5, 1_000_000, 100.0)], path)
    document = write_json([_result(15.0, 10_000_000, 900.0)], path)  # earlier size kept
    assert [s["order_lines"] for s in document["sizes"]] == [1_000_000, 10_000_000]
    size = json.loads(path.read_text())["sizes"][0]
    for key in (
        "order_lines",
        "floor_s",
        "full_s",
        "full_over_floor",
        "incremental_s",
        "incremental_over_full",
        "noop_s",
        "quality_share",
        "peak_rss_mb",
    ):
        assert key in size
    assert size["full_over_floor"] == 50.0 and size["incremental_over_full"] == 0.04
    assert document["growth_full_10x"] == 9.0


def test_the_process_tree_memory_counts_this_process():
    assert tree_rss_bytes(os.getpid()) > 10 * 2**20
