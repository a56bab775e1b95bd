"""WCAG 2.1 AA on every dashboard page, checked by axe-core in real Chromium (issue 21).

axe-core comes bundled in the `axe-playwright-python` package (no download at run time). Each
page is checked at a phone's width (375 px) and at a desktop's (1366 px), in Bahasa Indonesia
and once in English; any violation of a WCAG A/AA rule fails, listed by page and rule. The
same run also measures the phone layout: the actionable figures (a problem's message, a
budget's shortfall, a coverage percentage) lie inside the screen, not off the card, and no
chart text is drawn smaller than 11 px.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.web import log_in_browser
from tests.web import test_browser

chromium = test_browser.chromium  # the module-scoped Chromium of the browser tests

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
           "resultTypes": ["violations"]}  # fmt: skip
PHONE, DESKTOP = {"width": 375, "height": 800}, {"width": 1366, "height": 900}


def dashboard_pages(web_app: Any) -> list[str]:
    """Every page of the dashboard a person can open, with data on it."""
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    return [
        "/dashboard/", "/dashboard/feeds", "/dashboard/runs", f"/dashboard/runs/{run}",
        "/dashboard/agencies/15.05", "/dashboard/budget", "/dashboard/budget/15.05",
        "/dashboard/budget/15.05?what_if_raise=10&what_if_min_wage=3.500.000&what_if_headcount=200",
        "/dashboard/coverage", "/dashboard/coverage?province=15", "/dashboard/workers",
        "/dashboard/identity-conflicts", "/dashboard/upload", "/dashboard/no-such-page",
        "/dashboard/?lang=en", "/dashboard/budget?lang=en", "/dashboard/upload?lang=id",
        "/dashboard/delivery", "/dashboard/delivery/files", "/dashboard/verification",
        "/dashboard/reconciliation",
    ]  # fmt: skip


def axe_violations(page: Any) -> dict[str, int]:
    """{rule id: nodes violating it} of the page as shown now."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options=WCAG_AA).response["violations"]
    return {v["id"]: len(v["nodes"]) for v in found}


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _audit(page: Any, base: str, paths: list[str]) -> dict[str, dict[str, int]]:
    out = {}
    for viewport, width in ((PHONE, "375"), (DESKTOP, "1366")):
        page.set_viewport_size(viewport)
        for path in paths:
            response = page.goto(f"{base}{path}")
            assert response.status == (404 if "no-such-page" in path else 200), path
            found = axe_violations(page)
            if found:
                out[f"{width} {path}"] = found
    return out


def test_every_page_passes_axe_at_phone_and_desktop_width(browser_page: Any, live_server: str,
                                                           web_app: Any) -> None:
    page = browser_page
    page.goto(f"{live_server}/dashboard/login")
    results = _audit(page, live_server, ["/dashboard/login"])
    log_in_browser(page, live_server)
    results.update(_audit(page, live_server, dashboard_pages(web_app)))
    # A roster's report on the upload page (a check: nothing is saved), with its problems.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/dashboard/upload")
    _check_a_roster(page, web_app)
    for viewport, width in ((PHONE, "375"), (DESKTOP, "1366")):
        page.set_viewport_size(viewport)
        found = axe_violations(page)
        if found:
            results[f"{width} upload report"] = found
    if os.environ.get("AXE_REPORT"):  # the before/after numbers of the note
        with open(os.environ["AXE_REPORT"], "w") as out:
            json.dump(results, out, indent=1, sort_keys=True)
    assert not results, json.dumps(results, indent=1, sort_keys=True)


def _check_a_roster(page: Any, web_app: Any) -> None:
    from pathlib import Path

    from gateway.demo.rosters import generate_roster, write_csv

    roster = Path(web_app.config["INSTANCE_PATH"]).parent / "roster_check.csv"
    write_csv(roster, generate_roster(40, seed=5, regency="15.05", error_rate=0.2))
    page.fill("input[name=api_key]", web_app.config["SEEDED"]["key"])
    page.set_input_files("input[name=file]", str(roster))
    page.click("button[value=check]")
    page.wait_for_selector("#report")


# What each page must show on a phone without sideways scrolling: (page, selector).
ACTIONABLE = [
    ("/dashboard/runs/{run}", "table.problems td.msg"),  # what is wrong with a row
    ("/dashboard/", "td.gap"),  # the shortfall
    ("/dashboard/budget", "table.budget td.gap"),
    ("/dashboard/budget/15.05", "#budget-lines td.gap"),
    ("/dashboard/coverage", "table.coverage td.pct"),  # the coverage percentage
    ("/dashboard/coverage?province=15", "table.coverage td.pct"),
]

MEASURE = """sel => {
  const inside = [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null);
  const boxes = inside.map(e => {
    const r = e.getBoundingClientRect(), card = e.closest('.card').getBoundingClientRect();
    return [r.left, r.right, card.right, r.width];
  });
  const cards = [...document.querySelectorAll('.card')]
    .filter(c => c.scrollWidth > c.clientWidth + 1);
  const fonts = [...document.querySelectorAll('svg.chart')]
    .filter(s => s.getBoundingClientRect().width > 0)
    .flatMap(s => {
      const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
      return [...s.querySelectorAll('text')]
        .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
    });
  return {boxes, scrolling: cards.length, page: document.documentElement.scrollWidth,
          smallest: fonts.length ? Math.min(...fonts) : null, charts: fonts.length};
}"""


def test_a_phone_shows_the_actionable_figures_and_readable_charts(
        browser_page: Any, live_server: str, web_app: Any) -> None:
    """At 375 px the problem's message, the shortfall and the coverage percentage were off
    the card's right edge (the table scrolled inside it) and chart text was drawn at 4-5 px.
    Measured in Chromium: every such cell lies inside the screen and its card, no card
    scrolls sideways, and no chart text is under 11 px."""
    page = browser_page
    log_in_browser(page, live_server)
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    measured = {}
    for path, selector in ACTIONABLE:
        page.goto(f"{live_server}{path.format(run=run)}")
        measured[path] = page.evaluate(MEASURE, selector)
    for path, m in measured.items():
        assert m["boxes"], (path, "nothing to measure")
        for left, right, card_right, width in m["boxes"]:
            assert left >= 0 and right <= 375 and right <= card_right + 0.5 and width > 20, (
                path, left, right, card_right)
        assert m["scrolling"] == 0 and m["page"] <= 375, (path, m)
        if m["charts"]:
            assert m["smallest"] >= 11, (path, m["smallest"])
    assert sum(m["charts"] for m in measured.values()) > 10  # charts were measured


def test_a_clerk_on_a_phone_searches_simulates_drills_and_exports(
        browser_page: Any, live_server: str, web_app: Any) -> None:
    """The new tools, used in Chromium at 375 px: a NIK search from the menu, the budget
    what-if form, a province's drill-down, and a list downloaded as .xlsx."""
    import io

    from openpyxl import load_workbook

    from gateway.demo.rosters import generate_roster

    page = browser_page
    log_in_browser(page, live_server)
    nik = next(iter(generate_roster(80, seed=31, province="31")))["NIK"]  # seeded in DKI Jakarta
    page.click("header nav >> text=Cari NIK")
    page.fill("#nik-search input[name=nik]", nik)
    page.click("#nik-search button")
    page.wait_for_selector("#worker-found")
    assert "Daerah Khusus Ibukota Jakarta" in page.inner_text("#worker-enrollments")
    assert nik not in page.content()
    page.goto(f"{live_server}/dashboard/budget/15.05")
    page.fill("input[name=what_if_raise]", "10")
    page.fill("input[name=what_if_headcount]", "240")
    page.click("#what-if button")
    page.wait_for_selector("#what-if-result")
    assert "240" in page.inner_text("#what-if-result")
    page.goto(f"{live_server}/dashboard/coverage")
    page.click("#coverage-provinces a.drill:has-text('Jambi')")
    page.wait_for_selector("#all-provinces")
    assert "province=15" in page.url and "Muaro Jambi" in page.inner_text("main")
    page.goto(f"{live_server}/dashboard/agencies/15.05")
    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert download.suggested_filename == "pekerja_15.05.xlsx"
    with open(download.path(), "rb") as f:
        rows = list(load_workbook(io.BytesIO(f.read())).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "NIK" and len(rows) > 1


def test_the_first_tab_offers_to_skip_to_the_content(browser_page: Any, live_server: str
                                                     ) -> None:
    """A keyboard user's first Tab lands on a visible "Langsung ke isi halaman" link, which
    takes them past the menu to the page's content (WCAG 2.4.1)."""
    page = browser_page
    log_in_browser(page, live_server)
    page.goto(f"{live_server}/dashboard/runs")
    page.keyboard.press("Tab")
    focused = page.evaluate("({text: document.activeElement.textContent.trim(),"
                            " top: document.activeElement.getBoundingClientRect().top})")
    assert focused["text"] == "Langsung ke isi halaman" and focused["top"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the page, not the menu
    assert page.evaluate("!!document.activeElement.closest('main')")
