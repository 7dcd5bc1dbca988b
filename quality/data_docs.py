"""Data Docs that open offline and stay small.

GX's pages load jQuery, Bootstrap, Vega and web fonts from CDNs, and its index fills its
list of results with JavaScript: offline the index is unstyled and its list is empty. So
after GX renders this run's pages, each page loses its CDN tags and gets a small inline
stylesheet (the tables GX renders are plain HTML and read well without Bootstrap), and
``index.html`` is replaced by a plain HTML list of every suite, raw and mart, with its
latest result and links to its result pages, written from the validations store.

Results are kept for the last ``KEEP_RUNS`` validations of each suite (the warehouse's
``audit.quality_results`` keeps every measurement; these are the readable pages).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

KEEP_RUNS = 10
SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site"
STORE = Path("gx") / "uncommitted" / "validations"
OFFLINE_MARK = "<!-- c360: offline -->"
STYLE = """<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #1f2328; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.passed { color: #1a7f37; } .failed { color: #cf222e; font-weight: 600; }
a { color: #0969da; } nav, .navbar, .ge-footer { display: none; }
</style>"""
# a <link>, <script> or <img> that fetches from another host, and the favicon link (GX
# points it one folder too high on result pages)
REMOTE = re.compile(
    r"<(?:link|script|img)\b[^>]*\b(?:href|src)\s*=\s*[\"']https?://[^>]*>(?:\s*</script>)?"
    r"|<link\b[^>]*favicon[^>]*>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StoredResult:
    suite: str
    run_time: str  # GX's run folder name, e.g. 20261129T143351.855711Z
    success: bool
    failed: int
    evaluated: int
    page: Path  # relative to the site


def prune(project_root: Path, keep: int = KEEP_RUNS) -> None:
    """Keep the newest ``keep`` runs of each suite, in the store and in the site."""
    store = project_root / STORE
    if not store.is_dir():
        return
    for runs_folder in {p.parent.parent for p in store.glob("*/*/*/*/*/*.json")}:
        runs = sorted(p for p in runs_folder.iterdir() if p.is_dir())
        for old in runs[: max(len(runs) - keep, 0)]:
            relative = old.relative_to(store)
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(project_root / SITE / "validations" / relative, ignore_errors=True)


def stored_results(project_root: Path) -> list[StoredResult]:
    store = project_root / STORE
    results = []
    for path in sorted(store.glob("*/*/*/*/*/*.json")):
        document = json.loads(path.read_text())
        statistics = document.get("statistics", {})
        relative = path.relative_to(store).with_suffix(".html")
        results.append(
            StoredResult(
                suite=document["suite_name"],
                run_time=path.parent.name,
                success=bool(document.get("success")),
                failed=int(statistics.get("unsuccessful_expectations") or 0),
                evaluated=int(statistics.get("evaluated_expectations") or 0),
                page=Path("validations") / relative,
            )
        )
    return results


def make_offline(project_root: Path) -> Path:
    """Strip remote tags from every page not yet done, then write the index; return it."""
    site = project_root / SITE
    for page in site.rglob("*.html"):
        text = page.read_text()
        if OFFLINE_MARK in text:
            continue
        text = REMOTE.sub("", text).replace("</head>", f"{STYLE}{OFFLINE_MARK}</head>", 1)
        page.write_text(text)
    index = site / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(_index_page(stored_results(project_root)))
    return index


def _index_page(results: list[StoredResult]) -> str:
    by_suite: dict[str, list[StoredResult]] = {}
    for result in results:
        by_suite.setdefault(result.suite, []).append(result)
    sections = []
    for layer, title in (("raw", "Raw tables"), ("marts", "Marts")):
        rows = []
        for suite in sorted(s for s in by_suite if s.split(".")[0] == layer):
            runs = sorted(by_suite[suite], key=lambda r: r.run_time, reverse=True)
            latest = runs[0]
            status = (
                '<span class="passed">passed</span>'
                if latest.success
                else f'<span class="failed">{latest.failed} of {latest.evaluated} failed</span>'
            )
            severity = suite.rsplit(".", 1)[-1]
            history = " ".join(
                f'<a href="{r.page.as_posix()}" title="{r.run_time}">'
                f"{'✓' if r.success else '✗'}</a>"
                for r in runs
            )
            rows.append(
                f"<tr><td>{html.escape(suite)}</td><td>{severity}</td>"
                f'<td><a href="{latest.page.as_posix()}">{_when(latest.run_time)}</a></td>'
                f"<td>{status}</td><td>{history}</td></tr>"
            )
        body = (
            "<table><tr><th>suite</th><th>severity</th><th>last validated (UTC)</th>"
            "<th>result</th><th>last runs, newest first</th></tr>" + "".join(rows) + "</table>"
            if rows
            else "<p>No results yet.</p>"
        )
        sections.append(f"<h2>{title}</h2>{body}")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Data quality: Great Expectations results</title>{STYLE}{OFFLINE_MARK}</head>"
        "<body><h1>Data quality: Great Expectations results</h1>"
        "<p>Each suite's latest validation and its last runs. An error suite that fails "
        "stops the publish; a warn suite is reported only.</p>"
        + "".join(sections)
        + "</body></html>"
    )


def _when(run_time: str) -> str:
    """20261129T143351.855711Z -> 2026-11-29 14:33:51"""
    match = re.match(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})", run_time)
    return "{}-{}-{} {}:{}:{}".format(*match.groups()) if match else run_time
