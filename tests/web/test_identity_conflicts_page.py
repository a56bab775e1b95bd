"""The dashboard's identity conflicts page (issue 16, finding 1): compliance staff see, masked,
which agency sent a NIK another agency enrolled with another name; the overview links to it;
a user bound to one agency does not see it. In the test client and in a real Chromium."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.users import create_user
from tests.helpers.web import PASSWORD, log_in, log_in_browser
from tests.web.test_browser import chromium, shot  # noqa: F401  (the browser fixture)

CLAIMED = "Ratna Kusumawati Dewi"


def _claim(web_app: Any, tmp_path: Path) -> dict[str, str]:
    """Sumatera Selatan (16) sends a worker Jakarta (31) enrolled, under another name."""
    held = next(iter(generate_roster(80, seed=31, province="31")))  # as seeded for 31
    path = tmp_path / "sumsel.csv"
    write_csv(path, [{**held, "Nama Lengkap": CLAIMED}])
    gw = web_app.extensions["jamsos"]
    with web_app.app_context():
        report = submit_roster(gw.registry, path, agency=resolve_agency("16"),
                               today=date.today(), trigger="cli")  # fmt: skip
    assert [p["code"] for p in report.problems] == ["identity_conflict"]
    return held


def test_staff_see_the_conflict_masked_from_the_overview(web_app: Any, staff: Any,
                                                         tmp_path: Path) -> None:  # fmt: skip
    assert "identity-conflicts-link" not in staff.get("/dashboard/").text  # none yet
    held = _claim(web_app, tmp_path)
    overview = staff.get("/dashboard/").text
    assert 'id="identity-conflicts-link"' in overview and "1 konflik identitas" in overview
    page = staff.get("/dashboard/identity-conflicts")
    assert page.status_code == 200
    table = page.text.split('id="identity-conflicts"', 1)[1]
    nik = held["NIK"].strip()
    assert nik not in page.text and f"{nik[:6]}******{nik[-4:]}" in table
    assert held["Nama Lengkap"] not in page.text and CLAIMED not in page.text
    assert "Ra*** K. D." in table  # the name sent, masked as stored
    assert held["Nama Lengkap"].split()[0] in table  # the registered one, masked
    assert "Provinsi Sumatera Selatan" in table and "Jakarta" in table
    resolved = staff.get("/dashboard/identity-conflicts?state=resolved").text
    assert "Tidak ada konflik identitas." in resolved


def test_an_agency_bound_user_does_not_see_conflicts(web_app: Any, tmp_path: Path) -> None:
    _claim(web_app, tmp_path)
    with web_app.app_context():
        create_user(web_app.extensions["jamsos"].registry.engine, "jambi", PASSWORD,
                    agency="15.05")  # fmt: skip
    client = web_app.test_client()
    assert log_in(client, "jambi").status_code == 302
    assert client.get("/dashboard/identity-conflicts").status_code == 404
    assert "identity-conflicts-link" not in client.get("/dashboard/").text


def test_the_conflicts_page_in_a_browser(chromium: Any, live_server: str, web_app: Any,  # noqa: F811
                                         tmp_path: Path) -> None:  # fmt: skip
    held = _claim(web_app, tmp_path)
    page = chromium.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in_browser(page, live_server)
    page.click("#identity-conflicts-link a")
    page.wait_for_selector("table#identity-conflicts")
    rows = page.locator("table#identity-conflicts tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "Ra*** K. D." in text and "Nama" in text
    assert not re.search(r"\b\d{16}\b", page.content())  # no NIK on the page
    assert held["Nama Lengkap"] not in page.content()
    shot(page, "identity_conflicts")
    page.click("#conflicts-resolved")
    page.wait_for_selector("text=Tidak ada konflik identitas.")
