"""After a roster with a declared allocation, the clerk is told whether it covers the year and
by how much it falls short (issue 21), through the API (waited and followed), the CLI and the
dashboard's upload page: not only "Alokasi dicatat".

Ten workers at Rp 1.000.000 since 2024 owe, in 2025, JKK 10 x 2.400 x 12 = Rp 288.000 and JKM
10 x 3.000 x 12 = Rp 360.000 (docs/domain.md §5).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner
from sqlalchemy import insert

from gateway.cli import main
from gateway.store.tables import budget_allocations
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.web import csrf_of

HALF_JKM = "jkk=288.000,jkm=180.000"  # JKM short by Rp 180.000: pays 6 of 12 months
WHOLE = "jkk=288.000,jkm=360.000"


def _roster(tmp_path, name: str = "r.csv"):
    return write_roster(tmp_path / name, [worker_row(i, wage=1_000_000) for i in range(10)])


def _post(client, key: str, path, endpoint: str = "rosters?wait=1", **form: str) -> Any:
    with open(path, "rb") as fh:
        return client.post(
            f"/api/v1/agencies/15.05/{endpoint}", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, path.name), **form}, content_type="multipart/form-data")  # fmt: skip


def _follow(client, key: str, url: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.get(url, headers={"Authorization": f"Bearer {key}"}).json
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"{url} still running after {seconds} s")


def test_the_api_says_the_shortfall_of_the_declared_year(client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    response = _post(client, key, _roster(tmp_path), fiscal_year="2025", allocation=HALF_JKM)
    assert response.status_code == 201, response.json
    check = response.json["allocation_check"]
    assert (check["status"], check["fiscal_year"]) == ("shortfall", 2025)
    assert (check["obligation"], check["allocated"], check["gap"]) == (648_000, 468_000, 180_000)
    assert check["months_covered"] == 6 and check["workers"] == 10
    assert [(line["program"], line["gap"]) for line in check["lines"]] == [("jkk", 0),
                                                                          ("jkm", 180_000)]
    assert "belum mencukupi: kurang Rp 180.000 dari kewajiban Rp 648.000" in check["message_id"]
    assert "JKM kurang Rp 180.000" in check["message_id"]
    assert "cukup untuk 6 dari 12 bulan" in check["message_id"]
    assert "Rp 180,000 short of an obligation of Rp 648,000" in check["message_en"]


def test_a_followed_upload_says_it_too(client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    accepted = _post(client, key, _roster(tmp_path), endpoint="rosters", fiscal_year="2025",
                     allocation=WHOLE)  # fmt: skip
    assert accepted.status_code == 202
    run = _follow(client, key, accepted.headers["Location"])
    assert run["status"] == "succeeded"
    assert run["allocation_check"]["status"] == "sufficient"
    assert run["allocation_check"]["message_id"].startswith(
        "Alokasi 2025 mencukupi kewajiban setahun: Rp 648.000 untuk kewajiban Rp 648.000")


def test_the_cli_prints_whether_it_covers_the_year(app, tmp_path):
    runner = CliRunner()
    args = ["roster", "submit", str(_roster(tmp_path)), "--agency", "15.05", "--year", "2025",
            "--allocation", HALF_JKM]
    with app.app_context():
        printed = runner.invoke(main, args)
        as_json = runner.invoke(main, [*args, "--json"])  # the same file: a replay
    assert printed.exit_code == 0, printed.output
    assert "Alokasi 2025 dicatat / allocation recorded" in printed.output
    assert ("Alokasi 2025 belum mencukupi: kurang Rp 180.000 dari kewajiban Rp 648.000"
            in printed.output)
    assert "JKM short by Rp 180,000" in printed.output
    assert json.loads(as_json.stdout)["allocation_check"]["gap"] == 180_000


def test_the_apbd_feed_is_named_when_it_is_what_was_checked(app, gw, tmp_path):
    """The feed's figures win over a declaration: the clerk is told which was used."""
    with gw.registry.engine.begin() as conn:
        conn.execute(insert(budget_allocations), [
            {"government": "15.05", "fiscal_year": 2025, "account_code": code, "amount": amount,
             "source": "apbd", "received_at": datetime.now(UTC)}
            for code, amount in (("5.1.02.02.02.0006", 288_000), ("5.1.02.02.02.0007", 360_000))
        ])  # fmt: skip
    with app.app_context():
        printed = CliRunner().invoke(main, ["roster", "submit", str(_roster(tmp_path)),
                                            "--agency", "15.05", "--year", "2025",
                                            "--allocation", HALF_JKM])  # fmt: skip
    assert "Alokasi 2025 mencukupi" in printed.output
    assert "Pagu APBD dari SIPD yang dipakai" in printed.output
    assert "the two differ" in printed.output


def test_the_dashboards_upload_result_says_it(app, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    browser = app.test_client()
    token = csrf_of(browser.get("/dashboard/upload").text)
    with open(_roster(tmp_path), "rb") as fh:
        sent = browser.post("/dashboard/upload", data={
            "csrf_token": token, "api_key": key, "action": "submit", "file": (fh, "r.csv"),
            "fiscal_year": "2025", "allocation": HALF_JKM}, content_type="multipart/form-data")
    assert sent.status_code == 303
    page = browser.get(sent.headers["Location"])
    deadline = time.monotonic() + 60
    while page.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.05)
        page = browser.get(sent.headers["Location"])
    assert page.status_code == 201
    said = re.search(r'id="allocation-check">([^<]+)<', page.text)
    assert said, "no allocation check on the upload's report"
    assert "belum mencukupi: kurang Rp 180.000" in said.group(1)
    english = browser.get(sent.headers["Location"] + "?lang=en").text
    assert "JKM short by Rp 180,000" in english
