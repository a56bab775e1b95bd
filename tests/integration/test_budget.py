"""Budget-allocation checks end to end: a roster, an allocation, the check (CLI and API)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import insert

from gateway.budget.allocation import declare_allocation, parse_allocation
from gateway.budget.check import WageScenario, check_budget
from gateway.budget.rates import load_packages, load_schedule
from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.tables import budget_allocations
from tests.helpers.roster import HEADER, worker_row, write_roster

WORKERS = 4156  # docs/domain.md §2 worked example 3 (a real regional figure, 2022)
JKK_YEAR = WORKERS * 2_400 * 12  # JKK class 1 = 0.24 % of Rp 1,000,000
JKM_YEAR = WORKERS * 3_000 * 12  # JKM 0.30 %


@pytest.fixture
def rostered(gw, tmp_path):
    """4,156 honorer of Kabupaten Muaro Jambi on a wage base of Rp 1,000,000, all year 2025."""
    path = write_roster(tmp_path / "r.csv", [worker_row(i, wage=1_000_000) for i in range(WORKERS)])
    report = submit_roster(gw.registry, path, agency=resolve_agency("15.05"),
                           today=date(2025, 1, 2), trigger="test", batch_size=2000)
    assert report.accepted == WORKERS
    return gw


def check(gw, **kw):
    return check_budget(gw.engine, "15.05", 2025, schedule=load_schedule(),
                        packages=load_packages(), **kw)


def test_the_worked_example_costs_269_308_800_a_year(rostered):
    result = check(rostered)
    assert result.obligation == 269_308_800 == JKK_YEAR + JKM_YEAR
    assert {line.program: line.obligation for line in result.lines} == {
        "jkk": JKK_YEAR, "jkm": JKM_YEAR}
    assert result.status == "no_budget"
    assert result.workers == WORKERS and result.worker_months == WORKERS * 12


def test_sufficient_shortfall_and_no_budget(rostered):
    declare_allocation(rostered.engine, "15.05", 2025, {"jkk": JKK_YEAR, "jkm": JKM_YEAR}, None)
    assert check(rostered).status == "sufficient"
    assert check(rostered).gap == 0

    declare_allocation(rostered.engine, "15.05", 2025, {"jkk": JKK_YEAR, "jkm": JKM_YEAR // 2},
                       None)
    short = check(rostered)
    assert short.status == "shortfall"
    assert short.gap == JKM_YEAR - JKM_YEAR // 2
    # Each program is its own budget line: half of JKM pays JKM for 6 months, however
    # much of JKK is paid (pooled, the two lines claimed 8 months for everyone).
    assert short.months_covered == 6
    assert short.workers_covered == WORKERS * (JKM_YEAR // 2) // JKM_YEAR


def test_money_left_on_one_line_covers_nothing_of_another(rostered):
    # JKK nearly unfunded, JKM fully funded, and a large JHT line with no obligation: still
    # a shortfall, covering (almost) nobody, not "every worker for 12 months".
    declare_allocation(rostered.engine, "15.05", 2025,
                       {"jkk": 1_000, "jkm": JKM_YEAR, "jht": 10 * JKK_YEAR}, None)
    short = check(rostered)
    assert short.status == "shortfall"
    assert (short.months_covered, short.workers_covered) == (0, 0)
    assert short.allocated > short.obligation  # pooled, it looked like a surplus


def test_a_government_with_no_roster_and_no_budget_line(gw):
    result = check_budget(gw.registry.engine, "17", 2025, schedule=load_schedule(),
                          packages=load_packages())
    assert result.status == "no_budget" and result.obligation == 0 and result.lines == ()


def test_the_apbd_figure_wins_and_a_disagreement_is_flagged(rostered):
    declare_allocation(rostered.engine, "15.05", 2025, {"jkk": JKK_YEAR, "jkm": JKM_YEAR}, None)
    with rostered.engine.begin() as conn:
        conn.execute(insert(budget_allocations), [
            {"government": "15.05", "fiscal_year": 2025, "account_code": code, "amount": amount,
             "source": "apbd", "received_at": datetime.now(UTC)}
            for code, amount in (("5.1.02.02.02.0006", JKK_YEAR), ("5.1.02.02.02.0007", 1))
        ])
    result = check(rostered)
    assert result.allocation_source == "apbd" and result.disagreement
    assert result.allocations == {"apbd": JKK_YEAR + 1, "declared": JKK_YEAR + JKM_YEAR}
    assert result.status == "shortfall" and result.gap == JKM_YEAR - 1


def test_what_if_the_minimum_wage_rises(rostered):
    # Next year's wage base of Rp 1,100,000: JKK 2,640 + JKM 3,300 a month per worker.
    result = check(rostered, scenario=WageScenario(minimum_wage=1_100_000))
    assert result.obligation == WORKERS * (2_640 + 3_300) * 12
    raised = check(rostered, scenario=WageScenario(raise_percent=10))
    assert raised.obligation == result.obligation


def test_a_what_if_does_not_move_a_pekerja_rentan_declared_income(gw, tmp_path):
    # BPU: JKK 1 % of declared income (at least Rp 10,000) + JKM Rp 6,800 (docs/domain.md §2).
    row = worker_row(0, wage=800_000)
    path = write_roster(tmp_path / "r.csv", [[*row, "pekerja_rentan"]],
                        header=[*HEADER, "Kategori"])  # fmt: skip
    submit_roster(gw.registry, path, agency=resolve_agency("15.05"), today=date(2025, 1, 2),
                  trigger="test")  # fmt: skip
    plain = check(gw)
    assert plain.obligation == (10_000 + 6_800) * 12
    for scenario in (WageScenario(minimum_wage=3_500_000), WageScenario(raise_percent=50)):
        assert check(gw, scenario=scenario).obligation == plain.obligation  # was 35,000 JKK


@pytest.mark.parametrize(
    ("text", "expected"),
    [("jkk=24.000.000,jkm=30000000", {"jkk": 24_000_000, "jkm": 30_000_000}),
     ("jkk=4,500,000.00, jht=Rp 1.000", {"jkk": 4_500_000, "jht": 1_000})],
)
def test_parse_allocation(text, expected):
    assert parse_allocation(text) == expected


@pytest.mark.parametrize("text", ["jkk", "jkn=5", "jkk=abc"])
def test_parse_allocation_refuses_nonsense_in_both_languages(text):
    with pytest.raises(ValueError, match="/"):
        parse_allocation(text)


def test_cli_declares_with_the_roster_then_checks_and_exports(app, tmp_path):
    runner = CliRunner()
    roster = write_roster(tmp_path / "r.csv", [worker_row(i, wage=1_000_000) for i in range(10)])
    with app.app_context():
        submitted = runner.invoke(main, ["roster", "submit", str(roster), "--agency", "15.05",
                                         "--year", "2025", "--allocation",
                                         "jkk=288.000,jkm=360.000", "--json"])
    assert submitted.exit_code == 0, submitted.output
    assert json.loads(submitted.stdout)["declared_allocation"]["jkk"] == 288_000
    export = tmp_path / "budget.xlsx"
    with app.app_context():
        result = runner.invoke(main, ["budget", "check", "--government", "15.05", "--year",
                                      "2025", "--json", "--export", str(export)])
    body = json.loads(result.stdout)
    # The roster's TMT is 01-01-2024: all twelve months of 2025 count.
    assert body["obligation"] == 10 * (2_400 + 3_000) * 12 == 648_000
    assert body["status"] == "sufficient" and result.exit_code == 0
    sheet = load_workbook(export).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "15.05" and rows[1][7] in (288_000, 360_000)


def test_cli_refuses_an_allocation_without_a_year(app, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [worker_row(0)])
    with app.app_context():
        result = CliRunner().invoke(main, ["roster", "submit", str(roster), "--agency", "15.05",
                                           "--allocation", "jkk=1"])
    assert result.exit_code == 2 and "--year" in result.output


def test_cli_a_ministry_has_no_apbd_to_check(app):
    with app.app_context():
        result = CliRunner().invoke(main, ["budget", "check", "--year", "2025",
                                           "--government", "kemenkes"])  # fmt: skip
    assert result.exit_code == 2 and "regional governments" in result.output


def test_export_neutralises_formulas(tmp_path):
    from gateway.budget.export import neutralise

    assert neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert neutralise("+62") == "'+62" and neutralise(5) == 5 and neutralise("Jambi") == "Jambi"


def test_api_budget_and_coverage(app, client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    other = gw.registry.create_api_key("31")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i, wage=1_000_000) for i in range(10)])
    with open(roster, "rb") as fh:
        submitted = client.post(
            "/api/v1/agencies/15.05/rosters?wait=1", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, "r.csv"), "fiscal_year": "2025", "allocation": "jkk=288.000"},
            content_type="multipart/form-data")
    assert submitted.status_code == 201
    assert submitted.json["declared_allocation"] == {"fiscal_year": 2025, "jkk": 288_000}
    body = client.get("/api/v1/budget/15.05/2025", headers={"Authorization": f"Bearer {key}"}).json
    assert body["status"] == "shortfall" and body["gap"] == 10 * 3_000 * 12
    assert client.get("/api/v1/budget/15.05/2025",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 403
    what_if = client.get("/api/v1/budget/15.05/2025?what_if_min_wage=1100000",
                         headers={"Authorization": f"Bearer {key}"}).json
    assert what_if["obligation"] == 10 * (2_640 + 3_300) * 12
    cov = client.get("/api/v1/coverage", headers={"Authorization": f"Bearer {other}"}).json
    assert {"code": "15.05", "enrolled": 10} in [
        {k: r[k] for k in ("code", "enrolled")} for r in cov["regencies"]]


@pytest.mark.parametrize(
    "query",
    ["what_if_min_wage=abc", "what_if_min_wage=-1", "what_if_raise=abc", "what_if_raise=nan",
     "what_if_raise=-5", "what_if_min_wage=1.5"],
)  # fmt: skip
def test_api_a_what_if_that_is_not_a_number_in_range_is_a_400(client, gw, query):
    """It used to answer 200 with the plain figures, as if nothing had been asked."""
    key = gw.registry.create_api_key("15.05")
    response = client.get(f"/api/v1/budget/15.05/2025?{query}",
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert response.status_code == 400 and response.json["error"] == "what_if_invalid"
    assert query.split("=")[0] in response.json["message_en"]


def _rostered_since_2013(gw, tmp_path):
    """One worker of Muaro Jambi with TMT 2013: before the JKK/JKM rate tables (July 2015)."""
    row = worker_row(0)
    row[6] = "01-01-2013"
    submit_roster(gw.registry, write_roster(tmp_path / "old.csv", [row]),
                  agency=resolve_agency("15.05"), today=date(2025, 1, 2), trigger="test")


def test_a_year_the_rate_tables_do_not_cover_is_refused_not_a_crash(app, client, gw, tmp_path):
    _rostered_since_2013(gw, tmp_path)
    key = gw.registry.create_api_key("15.05")
    response = client.get("/api/v1/budget/15.05/2015", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422 and response.is_json  # was Flask's HTML 500
    assert response.json["error"] == "rates_not_in_force"
    # JKK and JKM both begin in July 2015: whichever is looked up first is named.
    assert re.search(r"No JK[KM] rate is in force for 2015-01", response.json["message_en"])
    assert re.search(r"Tidak ada tarif JK[KM]", response.json["message_id"])
    with app.app_context():
        result = CliRunner().invoke(main, ["budget", "check", "--year", "2015"])  # every one
    assert result.exit_code == 2, result.output  # was a traceback
    assert "cannot be computed" in result.output and "Traceback" not in result.output
    # A year the tables cover is still computed for the same worker.
    ok = client.get("/api/v1/budget/15.05/2025", headers={"Authorization": f"Bearer {key}"})
    assert ok.status_code == 200 and ok.json["obligation"] > 0


@pytest.mark.parametrize(
    "args",
    [["--what-if-raise", "nan"], ["--what-if-raise", "-100"], ["--what-if-raise", "1e400"],
     ["--what-if-raise", "-10"], ["--what-if-min-wage", "0"]],
)  # fmt: skip
def test_cli_a_what_if_out_of_range_is_refused_as_the_api_refuses_it(app, args):
    with app.app_context():
        result = CliRunner().invoke(main, ["budget", "check", "--year", "2025",
                                           "--government", "15.05", *args])  # fmt: skip
    assert result.exit_code == 2, result.output  # was a traceback, or -10 % accepted
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Invalid value" in result.output


def test_cli_a_year_out_of_range_is_refused(app):
    with app.app_context():
        result = CliRunner().invoke(main, ["budget", "check", "--year", "1999"])
    assert result.exit_code == 2 and "--year" in result.output


def test_api_a_ministry_has_no_apbd_to_check(client, gw):
    key = gw.registry.create_api_key("kemenkes")
    response = client.get("/api/v1/budget/kemenkes/2025",
                          headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert response.status_code == 400
    assert response.json["error"] == "not_a_regional_government"


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"fiscal_year": "2025"}, "fiscal_year was sent without allocation"),
        ({"fiscal_year": "20x5", "allocation": "jkk=1"}, "allocation needs fiscal_year"),
        ({"fiscal_year": "2025", "allocation": "jkk=-5"}, "must be more than zero"),
        ({"fiscal_year": "2025", "allocation": "jkx=5"}, "a program among jkk"),
        ({"fiscal_year": "2025", "allocation": "jkk=5.000.000,jkk=1.000"}, "more than once"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("endpoint", ["rosters", "rosters/check"])
def test_api_a_bad_allocation_is_explained_on_check_as_on_submit(client, gw, tmp_path, form,
                                                                  says, endpoint):  # fmt: skip
    """The check used to ignore the budget fields: it passed, and the submit then failed."""
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(0)])
    with open(roster, "rb") as fh:
        response = client.post(
            f"/api/v1/agencies/15.05/{endpoint}", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, "r.csv"), **form}, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 400 and response.json["error"] == "allocation_invalid"
    assert says in response.json["message_en"]
    assert "alokasi" not in response.json["message_en"]  # English only, Indonesian beside
    assert response.json["message_id"] != response.json["message_en"]
    assert gw.registry.list_runs() == []


def test_an_allocation_sent_with_a_rejected_roster_is_said_not_recorded(app, client, gw,
                                                                         tmp_path):  # fmt: skip
    key = gw.registry.create_api_key("15.05")
    broken = write_roster(tmp_path / "broken.csv", [["", "Budi", "L", "", "", "x", ""]])
    with open(broken, "rb") as fh:
        response = client.post(
            "/api/v1/agencies/15.05/rosters?wait=1", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, "r.csv"), "fiscal_year": "2025", "allocation": "jkk=288.000"},
            content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert response.json["declared_allocation"] is None  # it was silently dropped
    assert "not recorded" in response.json["allocation_note"]["message_en"]
    with app.app_context():
        result = CliRunner().invoke(main, ["roster", "submit", str(broken), "--agency", "15.05",
                                           "--year", "2025", "--allocation", "jkk=1"])  # fmt: skip
    assert "Alokasi anggaran tidak dicatat" in result.output
    assert "dicatat / allocation recorded" not in result.output
    assert check(gw).allocation_source is None  # nothing recorded either way


def test_an_allocation_sent_with_the_roster_in_force_again_is_recorded(client, gw, tmp_path):
    """A government declares its allocation later, with the same (unchanged) roster: a replay
    of that file, which the registry already holds."""
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    for form in ({}, {"fiscal_year": "2025", "allocation": "jkk=9.000.000"}):
        with open(roster, "rb") as fh:
            response = client.post(
                "/api/v1/agencies/15.05/rosters?wait=1",
                headers={"Authorization": f"Bearer {key}"},
                data={"file": (fh, "r.csv"), **form},
                content_type="multipart/form-data",
            )
    assert response.json["replayed"] is True
    assert response.json["declared_allocation"] == {"fiscal_year": 2025, "jkk": 9_000_000}
    assert check(gw).allocations["declared"] == 9_000_000


def test_api_refuses_an_allocation_without_a_year(client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    roster = write_roster(tmp_path / "r.csv", [worker_row(0)])
    with open(roster, "rb") as fh:
        response = client.post(
            "/api/v1/agencies/15.05/rosters?wait=1", headers={"Authorization": f"Bearer {key}"},
            data={"file": (fh, "r.csv"), "allocation": "jkk=1"},
            content_type="multipart/form-data")
    assert response.status_code == 400 and response.json["error"] == "allocation_invalid"
    assert gw.registry.list_runs() == []  # nothing applied


def test_cli_coverage_counts_where_the_agency_is(app, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [worker_row(i, region="31.74") for i in range(3)])
    runner = CliRunner()
    with app.app_context():
        runner.invoke(main, ["roster", "submit", str(roster), "--agency", "15.05"])
        result = runner.invoke(main, ["coverage", "--json"])
    body = json.loads(result.stdout)
    # NIKs first registered in Jakarta, enrolled by Muaro Jambi: they count for Jambi.
    provinces = {r["code"]: r for r in body["provinces"]}
    assert provinces["15"]["enrolled"] == 3
    assert provinces["31"]["enrolled"] == 0 and provinces["31"]["target"] == 8_200_000


def test_end_to_end_from_an_apbd_file_and_rosters(app, gw, tmp_path):
    """Three governments, each with a roster of 10 workers on Rp 1,000,000 (JKK 2,400 + JKM
    3,000 a month): Muaro Jambi budgeted enough, Jakarta too little, Sumatera Selatan only a
    health-insurance line (not ours): sufficient, shortfall, no_budget."""
    from gateway.roster.sync import sync_source
    from gateway.sources.loader import make_plugin_manager, source_catalog

    for code in ("15.05", "31", "16"):
        roster = write_roster(tmp_path / f"{code}.csv",
                              [worker_row(i, wage=1_000_000) for i in range(10)])
        submit_roster(gw.registry, roster, agency=resolve_agency(code), today=date(2025, 1, 2),
                      trigger="test")
    year_jkk, year_jkm = 10 * 2_400 * 12, 10 * 3_000 * 12
    sipd = tmp_path / "sipd.csv"
    sipd.write_text(
        "Kode Pemda;Nama Pemda;Tahun;Kode Sub Kegiatan;Kode Rekening;Uraian Rekening;Pagu\n"
        f"15.05;Kab. Muaro Jambi;2025;4.01;5.1.02.02.02.0006;JKK Non ASN;{year_jkk}\n"
        f"15.05;Kab. Muaro Jambi;2025;4.01;5.1.02.02.02.0007;JKM Non ASN;{year_jkm}\n"
        f"31;DKI Jakarta;2025;4.01;5.1.02.02.02.0006;JKK Non ASN;{year_jkk}\n"
        f"31;DKI Jakarta;2025;4.01;5.1.02.02.02.0007;JKM Non ASN;{year_jkm - 30_000}\n"
        "16;Sumatera Selatan;2025;4.01;5.1.02.02.02.0005;JKN Non ASN;450.000.000\n",
        encoding="utf-8",
    )
    pm = make_plugin_manager(allow=["apbd"])
    source = source_catalog(pm, {"apbd-sipd": {"path": str(sipd)}})["apbd-sipd"].create()
    assert sync_source(gw.registry, pm, source, today=date(2025, 2, 1),
                       trigger="test").status == "succeeded"
    with app.app_context():
        result = CliRunner().invoke(main, ["budget", "check", "--year", "2025", "--json"])
    assert result.exit_code == 1  # not every government is sufficient
    checks = {c["government"]: c for c in json.loads(result.stdout)}
    assert checks["15.05"]["status"] == "sufficient" and checks["15.05"]["gap"] == 0
    assert checks["31"]["status"] == "shortfall" and checks["31"]["gap"] == 30_000
    assert checks["31"]["allocation_source"] == "apbd"
    assert checks["16"]["status"] == "no_budget"
    assert checks["16"]["obligation"] == year_jkk + year_jkm


def test_coverage_targets_do_not_depend_on_the_working_folder(tmp_path, monkeypatch):
    from gateway.budget.coverage import load_targets

    monkeypatch.delenv("JAMSOS_TARGETS_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # a gateway started elsewhere showed no targets at all
    assert {"31", "kemendes"} <= {t.code for t in load_targets()}
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "targets.toml").write_text(
        '[[targets]]\ncode = "15.05"\nyear = 2025\ntarget = 1000\n'
    )
    assert [t.code for t in load_targets()] == ["15.05"]  # the folder's own file first

