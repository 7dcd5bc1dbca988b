"""The analytical report: one self-contained HTML file that opens offline in a real
browser (Debian's Chromium driven by Playwright) with every chart drawn, no console
error and no network request."""

import re

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, FLAGS
from warehouse.connection import connection


@pytest.fixture(scope="module")
def built(demo_build):
    return demo_build


def test_every_publish_writes_the_report_and_it_renders_offline(built):
    _, warehouse = built
    report = warehouse.with_name("reports") / "report.html"
    assert report.exists()
    errors, requests = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri(), wait_until="load")
        charts = page.locator("figure.chart svg")
        drawn = [
            charts.nth(i).evaluate(
                "svg => [svg.getBoundingClientRect().width, "
                "svg.querySelectorAll('path, rect, text, use').length]"
            )
            for i in range(charts.count())
        ]
        titles = page.locator("h2").all_inner_texts()
        browser.close()
    assert errors == []
    assert requests == [report.as_uri()]  # the file itself, nothing else
    assert len(titles) == 11 and len(drawn) == 11
    assert all(width > 100 and shapes > 10 for width, shapes in drawn)


def test_the_readings_state_the_published_figures(built):
    _, warehouse = built
    text = (warehouse.with_name("reports") / "report.html").read_text()
    with connection(warehouse, read_only=True) as con:
        customers = con.execute("select count(*) from marts.dim_customer_360").fetchone()[0]
        actions = sum(
            con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'marts' and table_name like 'action_%'"
            ).fetchall()
        )
    assert re.search(rf"\b{customers:,} customers; the largest stage", text)
    assert f"{actions:,} rows to act on" in text
