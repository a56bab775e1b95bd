"""Issue 16, finding 2 and 3 on the dashboard, in a real browser (Debian's Chromium through
Playwright, as test_browser.py): Enter in a field of the upload form never submits; a file
that would end most of the agency's workers is shown with the count and a masked sample and
submitted only once the clerk types that number; the submitted roster's page waits for the
background apply and then shows the report.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from gateway.demo.rosters import generate_roster, write_csv
from tests.helpers.web import confirm_endings_in_browser
from tests.web.test_browser import chromium, shot  # noqa: F401 (the browser fixture)

SEEDED_15_05 = 120  # tests/web/conftest.py seeds Muaro Jambi with 120 workers


def _runs(web_app: Any) -> list[dict]:
    with web_app.app_context():
        return web_app.extensions["jamsos"].registry.list_runs(agency="15.05")


def test_enter_never_submits_and_endings_need_the_typed_count(
    chromium: Any, live_server: str, web_app: Any, tmp_path: Path  # noqa: F811
) -> None:
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    partial = tmp_path / "sebagian.csv"
    write_csv(partial, generate_roster(10, seed=5, regency="15.05"))
    before = len(_runs(web_app))

    page.goto(f"{live_server}/dashboard/upload")
    page.set_input_files("input[name=file]", str(partial))
    page.fill("input[name=api_key]", web_app.config["SEEDED"]["key"])
    page.press("input[name=api_key]", "Enter")  # used to submit the roster
    time.sleep(1.0)
    assert page.url.endswith("/dashboard/upload") and len(_runs(web_app)) == before

    # "Kirim roster": the page checks first and asks for the count.
    page.click("#submit-roster")
    page.wait_for_selector("#confirm-step:not([hidden])")
    text = page.inner_text("#confirm-step")
    count, active = map(int, re.search(r"mengakhiri kepesertaan (\d+) dari (\d+)", text).groups())
    assert active > SEEDED_15_05 * 0.9 and count > active * 0.9  # a 10-row file ends them
    assert re.search(r"\d{6}\*{6}\d{4}", text)  # the sample, masked
    shot(page, "11_upload_confirm_endings")
    assert len(_runs(web_app)) == before  # checked, nothing sent yet
    page.fill("#confirm-endings", str(count - 1))  # a wrong number is not sent
    page.click("#confirm-submit")
    time.sleep(0.5)
    assert len(_runs(web_app)) == before
    page.press("#confirm-endings", "Enter")  # Enter in the confirmation field neither
    time.sleep(0.5)
    assert len(_runs(web_app)) == before

    page.fill("#confirm-endings", str(count))
    page.click("#confirm-submit")
    # The run's page waits for the background apply, then shows the report.
    page.wait_for_url(re.compile(r"/dashboard/upload/runs/\d+$"))
    page.wait_for_selector("#report")
    report = page.inner_text("#report")
    assert "Roster diterapkan" in report
    run = _runs(web_app)[0]
    assert run["status"] == "succeeded" and run["ended"] == count
    shot(page, "12_upload_applied")


def test_the_run_page_shows_progress_while_the_apply_runs(
    chromium: Any, live_server: str, web_app: Any, tmp_path: Path  # noqa: F811
) -> None:
    page = chromium.new_context().new_page()
    page.set_default_timeout(60_000)
    roster = tmp_path / "lengkap.csv"
    write_csv(roster, generate_roster(6000, seed=6, regency="15.05"))
    page.goto(f"{live_server}/dashboard/upload")
    page.fill("input[name=api_key]", web_app.config["SEEDED"]["key"])
    page.set_input_files("input[name=file]", str(roster))
    page.click("#submit-roster")
    # It replaces the seeded workers: confirmed with the count the page shows.
    confirm_endings_in_browser(page)
    page.wait_for_selector("#pending, #report")
    if page.is_visible("#pending"):
        assert "sedang diterapkan" in page.inner_text("#pending")
        shot(page, "13_upload_waiting")
    page.wait_for_selector("#report")
    assert "Roster diterapkan" in page.inner_text("#report")
