"""The dashboard through Flask's test client: access control, CSRF, lock-out, masking, the
problems CSV, the upload page's report, language, and the operations endpoints."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.users import MAX_FAILURES
from tests.helpers.web import csrf_of, log_in


def test_pages_need_a_login(web_app: Any) -> None:
    client = web_app.test_client()
    for path in ("/dashboard/", "/dashboard/runs/1", "/dashboard/budget", "/dashboard/coverage",
                 "/dashboard/agencies/15.05", "/dashboard/runs/1/problems.csv"):
        response = client.get(path)
        assert response.status_code in (302, 403), path
    assert "/dashboard/login" in client.get("/dashboard/").headers["Location"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_page_renders_for_staff(staff: Any, web_app: Any) -> None:
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    for path in ("/dashboard/", "/dashboard/feeds", "/dashboard/runs", f"/dashboard/runs/{run}",
                 f"/dashboard/runs/{run}?after=5.0&severity=error",
                 "/dashboard/agencies/15.05", "/dashboard/agencies/31?status=ended",
                 "/dashboard/agencies/15.05?status=all",
                 "/dashboard/budget", "/dashboard/budget?status=shortfall",
                 "/dashboard/budget/15.05", "/dashboard/coverage", "/dashboard/upload"):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"
    assert staff.get("/metrics").status_code == 200


def test_post_without_csrf_token_is_refused(web_app: Any) -> None:
    client = web_app.test_client()
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"username": "siti", "password": "x"})
    assert response.status_code == 400
    response = client.post("/dashboard/login", data={"username": "siti", "password": "x",
                                                     "csrf_token": "forged"})
    assert response.status_code == 400


def test_repeated_failures_lock_the_account(web_app: Any) -> None:
    client = web_app.test_client()
    for _ in range(MAX_FAILURES - 1):
        response = log_in(client, password="wrong-password")
        assert response.status_code == 401
        assert "salah" in response.text
    response = log_in(client, password="wrong-password")
    assert "dikunci" in response.text
    # Even the right password is refused while locked.
    assert log_in(client).status_code == 401
    # A made-up username gets the very same answer: the lock does not tell which exist.
    made_up = web_app.test_client()
    for _ in range(MAX_FAILURES + 1):
        answer = log_in(made_up, username="tidak-ada", password="wrong-password")
    locked = log_in(web_app.test_client(), password="wrong-password")
    assert answer.status_code == locked.status_code == 401
    message = re.compile(r'<p class="alert" role="alert">(.*?)</p>', re.S)
    assert message.search(answer.text).group(1) == message.search(locked.text).group(1)


def test_a_failed_runs_page_says_it_failed_and_names_what_started_it(
    web_app: Any, staff: Any
) -> None:
    registry = web_app.extensions["jamsos"].registry
    run_id = registry.start_run(agency="15.05", source="roster-15.05", trigger="airflow",
                                external_id="jamsos_sync_roster-15.05/manual__2026-11-29")
    registry.fail_run(run_id, "FileNotFoundError: drop/15.05")
    page = staff.get(f"/dashboard/runs/{run_id}?lang=en").text
    assert "failed before its rows were checked" in page
    assert "every row was accepted" not in page  # it said so, under the error
    assert "jamsos_sync_roster-15.05/manual__2026-11-29" in page  # to find the Airflow task
    api = web_app.test_client().get(f"/api/v1/runs/{run_id}", headers={
        "Authorization": f"Bearer {web_app.config['SEEDED']['key']}"})
    assert api.json["run"]["external_id"] == "jamsos_sync_roster-15.05/manual__2026-11-29"


def test_a_feed_filter_with_no_match_says_so(staff: Any) -> None:
    page = staff.get("/dashboard/feeds?health=stale").text
    # Not "no feeds or runs yet", with the tiles above counting them.
    assert "Tidak ada sumber data dengan kondisi ini." in page
    assert "Belum ada sumber data maupun run." not in page


def test_a_disabled_user_is_logged_out_and_cannot_log_in(web_app: Any, staff: Any) -> None:
    from click.testing import CliRunner

    from gateway.cli import main

    assert staff.get("/dashboard/").status_code == 200
    runner = CliRunner()
    with web_app.app_context():
        disabled = runner.invoke(main, ["users", "disable", "siti"])
        assert disabled.exit_code == 0, disabled.output
        # the open session ends at its next request, and the password no longer works
        assert staff.get("/dashboard/").status_code == 302
        assert log_in(web_app.test_client()).status_code == 401
        assert runner.invoke(main, ["users", "enable", "siti"]).exit_code == 0
        assert log_in(web_app.test_client()).status_code == 302
        assert runner.invoke(main, ["users", "disable", "nobody"]).exit_code != 0
        listed = runner.invoke(main, ["users", "list"]).output
    assert "siti" in listed and "active" in listed
    from gateway.store import audit

    logged = {e["action"] for e in audit.recent(web_app.extensions["jamsos"].engine, limit=20)}
    assert {"user_disabled", "user_enabled"} <= logged


def test_login_redirects_only_within_the_site(web_app: Any) -> None:
    client = web_app.test_client()
    token = csrf_of(client.get("/dashboard/login").text)
    from tests.helpers.web import PASSWORD

    response = client.post("/dashboard/login", data={
        "username": "siti", "password": PASSWORD, "csrf_token": token,
        "next": "//evil.example/phish"})
    assert response.headers["Location"] == "/dashboard/"


def test_session_is_new_after_login_and_gone_after_logout(web_app: Any) -> None:
    client = web_app.test_client()
    before = csrf_of(client.get("/dashboard/login").text)
    log_in(client)
    page = client.get("/dashboard/").text
    after = csrf_of(page)
    assert after != before
    client.post("/dashboard/logout", data={"csrf_token": after})
    assert client.get("/dashboard/").status_code == 302


def test_a_session_cookie_is_samesite_and_ends_eight_hours_after_login(web_app: Any) -> None:
    import time
    from email.utils import parsedate_to_datetime

    client = web_app.test_client()
    response = log_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie  # there was no SameSite
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    left = expires.timestamp() - time.time()
    assert 7.9 * 3600 < left <= 8 * 3600  # was 31 days (Flask's default)
    assert client.get("/dashboard/").status_code == 200
    with client.session_transaction() as sess:  # logged in 8 hours and a minute ago, but
        sess["since"] -= 8 * 3600 + 60  # busy since: the cookie itself kept being refreshed
    gone = client.get("/dashboard/")
    assert gone.status_code == 302 and "/dashboard/login" in gone.headers["Location"]


def test_logging_out_ends_a_copy_of_the_session_cookie_too(web_app: Any) -> None:
    client = web_app.test_client()
    log_in(client)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    copied = client.get_cookie("session").value  # a shared computer, a stolen cookie
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(page.text)})
    other = web_app.test_client()
    other.set_cookie("session", copied)
    replayed = other.get("/dashboard/agencies/15.05")
    assert replayed.status_code == 302 and "/dashboard/login" in replayed.headers["Location"]
    again = web_app.test_client()  # and logging in afterwards works as before
    assert log_in(again).status_code == 302
    assert again.get("/dashboard/").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard/nope", "/dashboard/runs/abc"])
def test_an_unknown_dashboard_path_is_the_dashboards_own_page(web_app: Any, path: str) -> None:
    """It was Flask's bare English "Not Found" page, on an Indonesian dashboard."""
    page = web_app.test_client().get(f"{path}?lang=id")
    assert page.status_code == 404
    assert "Halaman tidak ditemukan." in page.text and "Not Found" not in page.text
    assert page.headers["Cache-Control"] == "no-store"
    english = web_app.test_client().get(f"{path}?lang=en")
    assert "Page not found." in english.text


def test_migrations_0007_and_0008_add_their_columns_to_an_existing_registry(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from gateway.store import db

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        # 0001 builds from today's tables: take away what 0007 and 0008 add, as a 0006
        # registry was
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN sessions_since")
        conn.exec_driver_sql("ALTER TABLE source_state DROP COLUMN checked_at")
    db.upgrade(engine)
    assert "sessions_since" in {c["name"] for c in inspect(engine).get_columns("users")}
    assert "checked_at" in {c["name"] for c in inspect(engine).get_columns("source_state")}
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert "sessions_since" not in {c["name"] for c in inspect(engine).get_columns("users")}
    assert "checked_at" not in {c["name"] for c in inspect(engine).get_columns("source_state")}
    engine.dispose()


def test_agency_page_masks_nik_and_name_and_pages_by_keyset(staff: Any) -> None:
    page = staff.get("/dashboard/agencies/15.05").text
    niks = re.findall(r'<td class="mono"[^>]*>([^<]+)</td>', page)
    assert len(niks) == 50
    assert all(re.fullmatch(r"\d{6}\*{6}\d{4}", n) for n in niks)
    assert not re.search(r"\b\d{16}\b", page)
    following = re.search(r'href="([^"]*after=\d+)"', page)
    assert following
    second = staff.get(following.group(1).replace("&amp;", "&")).text
    assert set(re.findall(r'<td class="mono"[^>]*>([^<]+)</td>', second)).isdisjoint(niks)


def test_problems_csv_lists_each_rejected_row(staff: Any, web_app: Any) -> None:
    run = web_app.config["SEEDED"]["runs"]["15.05"]
    response = staff.get(f"/dashboard/runs/{run}/problems.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "baris/row" and len(rows) > 1
    codes = {r[2] for r in rows[1:]}
    one = sorted(codes)[0]
    filtered = staff.get(f"/dashboard/runs/{run}/problems.csv?code={one}").data.decode()
    assert {r[2] for r in csv.reader(io.StringIO(filtered.lstrip("\ufeff")),
                                     delimiter=";")} - {"kode/code"} == {one}


def _upload(client: Any, key: str, path: Path, action: str = "submit", **fields: str) -> Any:
    """The upload form sent as a browser sends it; `fields`: the allocation's, if any."""
    token = csrf_of(client.get("/dashboard/upload").text)
    with open(path, "rb") as fh:
        sent = client.post("/dashboard/upload", data={
            "csrf_token": token, "api_key": key, "action": action, **fields,
            "file": (fh, path.name)}, content_type="multipart/form-data")
    # A submission is applied in the background: its page waits (202) until it is done.
    for _ in range(400):
        if sent.status_code not in (202, 303):
            return sent
        time.sleep(0.05 if sent.status_code == 202 else 0)
        sent = client.get(sent.headers.get("Location") or sent.request.path)
    raise AssertionError("the upload was not applied in 20 s")


def test_upload_with_a_key_reports_in_the_cli_words(web_app: Any, tmp_path: Path) -> None:
    client = web_app.test_client()  # a submitter: no staff login
    roster = tmp_path / "revisi.csv"
    write_csv(roster, generate_roster(40, seed=9, regency="15.05", error_rate=0.2))
    key = web_app.config["SEEDED"]["key"]
    checked = _upload(client, key, roster, action="check")
    assert checked.status_code == 200
    assert "Pemeriksaan selesai" in checked.text and "data:text/csv" in checked.text
    # It ends the seeded workers: the check says how many, the submit confirms that number.
    ends = re.search(r"mengakhiri kepesertaan (\d+) dari", checked.text).group(1)
    response = _upload(client, key, roster, confirm_endings=ends)
    assert response.status_code == 201
    assert "Roster diterapkan" in response.text and "GALAT" in response.text
    # Fields by their Indonesian names, not the data's ids ("Gaji (Rp) → wage").
    assert "→ Upah" in response.text and "→ TMT" in response.text
    assert "→ wage" not in response.text
    assert not re.search(r"<td[^>]*>start_date</td>", response.text)
    # The 120 seeded workers not in this file are ended: the page says so, and that a row
    # whose NIK cannot be read counts its worker as missing too (not "missing from the file").
    assert "diakhiri kepesertaannya" in response.text and "NIK-nya tidak terbaca" in response.text
    run_id = int(re.search(r"\(run (\d+)\)", response.text).group(1))
    # The submitter may download its own run's problems, not another run's.
    assert client.get(f"/dashboard/runs/{run_id}/problems.csv").status_code == 200
    other = web_app.config["SEEDED"]["runs"]["31"]
    assert client.get(f"/dashboard/runs/{other}/problems.csv").status_code == 403
    # The signed receipt, to keep as proof: downloadable, and genuine (it was only in the API).
    import base64
    import json

    from gateway.security.receipts import verify

    assert "Tanda terima bertanda tangan" in response.text
    uri = re.search(r'id="download-receipt" download="[^"]+" href="([^"]+)"', response.text)
    receipt = json.loads(base64.b64decode(uri.group(1).split(",", 1)[1]))
    assert receipt["run_id"] == run_id
    assert verify(receipt, web_app.extensions["jamsos"].signer.public).genuine
    again = _upload(client, key, roster)
    assert again.status_code == 200 and "sudah pernah dikirim" in again.text
    assert uri.group(1) in again.text  # the same receipt again


def test_upload_refuses_a_bad_key(web_app: Any, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    write_csv(roster, generate_roster(3, seed=1, regency="15.05"))
    response = _upload(web_app.test_client(), "jgw_nothing_here", roster)
    assert response.status_code == 401 and "tidak valid" in response.text


def test_language_switch_is_remembered(staff: Any) -> None:
    assert "Compliance overview" in staff.get("/dashboard/?lang=en").text
    assert "Enrollment coverage" in staff.get("/dashboard/coverage").text
    assert "Ringkasan kepatuhan" in staff.get("/dashboard/?lang=id").text


def test_budget_lists_no_budget_and_shortfall(staff: Any) -> None:
    page = staff.get(f"/dashboard/budget?year={date.today().year}").text
    assert "tanpa anggaran" in page and "kurang" in page
    detail = staff.get("/dashboard/budget/15.05").text
    assert "5.1.02.02.02.0006" in detail and "<svg" in detail


def test_budget_of_a_year_the_rate_tables_do_not_cover_says_why(web_app: Any, staff: Any,
                                                                tmp_path: Path) -> None:
    from tests.helpers.roster import worker_row, write_roster

    row = worker_row(0)
    row[6] = "01-01-2013"  # TMT before the JKK/JKM rate tables (July 2015)
    with web_app.app_context():
        submit_roster(web_app.extensions["jamsos"].registry,
                      write_roster(tmp_path / "old.csv", [row]), agency=resolve_agency("15.05"),
                      today=date.today(), trigger="cli")  # fmt: skip
    for url in ("/dashboard/budget?year=2015", "/dashboard/budget/15.05?year=2015"):
        page = staff.get(url)
        assert page.status_code == 422, url  # was an HTML 500 for the whole list
        assert "tidak dapat dihitung" in page.text and "bulan 2015-" in page.text, url
    assert staff.get("/dashboard/budget/15.05?year=2025").status_code == 200


def test_health_metrics_and_readiness(web_app: Any) -> None:
    client = web_app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"
    text = client.get("/metrics").text
    assert 'jamsos_runs{status="succeeded"} 2.0' in text
    assert re.search(r'jamsos_rows_total\{outcome="rejected"\} [1-9]', text)
    assert 'jamsos_source_staleness_seconds{agency="15.05",source="upload"}' in text
    assert 'jamsos_source_health{agency="31",source="upload",state="healthy"} 1.0' in text
    # Every metric the operations guide tells operators to alert on is one /metrics exposes
    # (it named `jamsos_rows`, which never matches: the counter is `jamsos_rows_total`).
    # The sections that name metrics: the guide also names DAGs, pools, assets and secrets
    # in the same backticks elsewhere.
    guide = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", guide, flags=re.M)
    monitored = "".join(s for s in sections if s.startswith(("What to monitor",
                                                             "Alerts from the gateway")))
    exposed = set(re.findall(r"^(jamsos_\w+)[{ ]", text, re.M))
    dags = {"jamsos_budget_check", "jamsos_daily_report"}  # named in the same backticks
    named = set(re.findall(r"`(jamsos_[a-z_]+)[{`]", monitored)) - dags
    assert named and named <= exposed, named - exposed


def test_readyz_reports_an_old_schema(web_app: Any) -> None:
    from gateway.store import db

    gw = web_app.extensions["jamsos"]
    db.upgrade(gw.engine)
    from alembic import command

    cfg = db._alembic_config()
    with gw.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    response = web_app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["expected"] == db.head_revision()


def test_secret_key_is_created_once_in_the_instance_folder(web_app: Any) -> None:
    web_app.test_client().get("/dashboard/login")
    path = Path(web_app.config["INSTANCE_PATH"]) / "secret_key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert web_app.config["SECRET_KEY"] == path.read_text().strip()


def test_browser_at_root_goes_to_the_dashboard(web_app: Any) -> None:
    client = web_app.test_client()
    assert client.get("/").json["api"] == "/api/v1"
    response = client.get("/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")


def test_a_failed_upload_source_shows_first(staff: Any, web_app: Any) -> None:
    gw = web_app.extensions["jamsos"]
    with web_app.app_context():
        run = gw.registry.start_run(agency="16", source="upload", trigger="api")
        gw.registry.fail_run(run, "OperationalError: disk full")
    page = staff.get("/dashboard/").text
    first_row = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "h-failing" in first_row and "disk full" in first_row
    assert (date.today() - timedelta(days=1)).year > 2000


def test_upload_over_the_limit_says_so(web_app: Any, tmp_path: Path) -> None:
    roster = tmp_path / "big.csv"
    write_csv(roster, generate_roster(400, seed=2, regency="15.05"))
    web_app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = _upload(web_app.test_client(), web_app.config["SEEDED"]["key"], roster)
    assert response.status_code == 413 and "melebihi batas" in response.text
    assert "Jangan memecah roster" in response.text


def test_ids_beyond_any_database_integer_are_not_server_errors(staff: Any) -> None:
    huge = 2**70
    assert staff.get(f"/dashboard/runs/{huge}").status_code == 404
    assert staff.get(f"/dashboard/runs/{huge}/problems.csv").status_code == 404
    assert staff.get(f"/dashboard/runs?before={huge}").status_code == 400
    assert staff.get(f"/dashboard/agencies/15.05?after={huge}").status_code == 400
    assert staff.get(f"/dashboard/runs/1?after={huge}.1").status_code == 400


def test_upload_page_declares_the_budget_allocation(web_app: Any, tmp_path: Path) -> None:
    from gateway.budget.check import allocations

    client = web_app.test_client()
    key = web_app.config["SEEDED"]["key"]
    roster = tmp_path / "anggaran.csv"
    write_csv(roster, generate_roster(15, seed=11, regency="15.05"))
    checked = _upload(client, key, roster, action="check").text
    ends = re.search(r"mengakhiri kepesertaan (\d+) dari", checked).group(1)  # the seeded
    response = _upload(client, key, roster, fiscal_year="2027", confirm_endings=ends,
                       allocation="jkk=1.000.000,jkm=2.000.000")  # fmt: skip
    assert response.status_code == 201
    engine = web_app.extensions["jamsos"].registry.engine
    assert allocations(engine, "15.05", 2027)["declared"] == {
        "5.1.02.02.02.0006": 1_000_000, "5.1.02.02.02.0007": 2_000_000}
    # With a roster that is not applied, the page says the allocation was not recorded.
    broken = tmp_path / "rusak.csv"
    broken.write_text("Nama;Gaji\nBudi;3.000.000\n")
    refused = _upload(client, key, broken, fiscal_year="2028", allocation="jkk=1.000.000")
    assert "Alokasi anggaran tidak dicatat" in refused.text
    assert allocations(engine, "15.05", 2028) == {}


def test_a_bad_allocation_on_the_upload_form_names_its_fields_and_keeps_them(
    web_app: Any, tmp_path: Path
) -> None:
    roster = tmp_path / "anggaran.csv"
    write_csv(roster, generate_roster(5, seed=12, regency="15.05"))
    page = _upload(web_app.test_client(), web_app.config["SEEDED"]["key"], roster,
                   fiscal_year="2027", allocation="")  # fmt: skip
    assert page.status_code == 400
    # The form's own labels, not the API's field names; the section open, the year kept.
    assert "Tahun anggaran diisi tanpa Alokasi" in page.text
    assert "fiscal_year diisi" not in page.text
    assert "<details open>" in page.text and 'value="2027"' in page.text


def test_a_found_nik_reads_in_the_page_language(staff: Any) -> None:
    """The search answer showed the stored status ("active") on an Indonesian page."""
    from gateway.demo.rosters import generate_roster

    seeded = generate_roster(120, seed=1505, regency="15.05", province="15", error_rate=0.08)
    nik = next(r["NIK"] for r in seeded if len(r["NIK"]) == 16 and r["NIK"].isdigit())
    for lang, status in (("id", "aktif"), ("en", "active")):
        staff.get(f"/dashboard/?lang={lang}")
        page = staff.get("/dashboard/agencies/15.05").text
        token = csrf_of(page)
        answer = staff.post("/dashboard/agencies/15.05", data={"csrf_token": token, "nik": nik})
        alert = re.search(r'<p class="alert ok">(.*?)</p>', answer.text, re.S)
        assert alert, "the NIK was not found"
        assert f"{status}, " in alert.group(1)


def test_column_chart_numbers_follow_the_page_language() -> None:
    from gateway.web.charts import GREEN, RED, column_chart

    months = [("2025-01", (4502, 3)), ("2025-02", (10, 0))]
    series = [("baru", GREEN), ("diakhiri", RED)]
    indonesian = column_chart(
        months, series, title="t", value_format=lambda v: f"{v:,}".replace(",", ".")
    )
    assert ">4.502<" in indonesian and ": 4.502<" in indonesian and "4,502" not in indonesian
