"""Dashboard users bound to one agency or government (issue 16, finding 10; docs/design.md §7).

Every page, list, export, chart and the upload page read only the user's agency; another
agency's run, agency or budget page answers 404 (not 403: scope does not tell what exists).
Users without a scope keep the national view. Real requests through the Flask test client on
the seeded gateway (tests/web/conftest.py: Muaro Jambi 15.05 and DKI Jakarta 31), plus one
real-browser check of the navigation.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store import dashboard
from gateway.store.users import UserError, create_user
from tests.helpers.web import PASSWORD, csrf_of, log_in, log_in_browser
from tests.web import test_browser

chromium = test_browser.chromium  # the module-scoped Chromium of the browser tests

PAGES = ("/dashboard/", "/dashboard/feeds", "/dashboard/runs", "/dashboard/runs?agency=31",
         "/dashboard/budget", "/dashboard/coverage", "/dashboard/upload")  # fmt: skip


def _bind(web_app: Any, tmp_path: Path) -> dict[str, Any]:
    """Province Jambi's own roster (15) beside the seeded ones, a user bound to Muaro Jambi
    (15.05), one bound to Provinsi Jambi (15), and an API key of DKI Jakarta (31)."""
    seeded = web_app.config["SEEDED"]
    registry = web_app.extensions["jamsos"].registry
    with web_app.app_context():
        path = tmp_path / "roster_15.csv"
        write_csv(path, generate_roster(30, seed=15, province="15"))
        report = submit_roster(registry, path, agency=resolve_agency("15"), today=date.today(),
                               trigger="cli")
        create_user(registry.engine, "rini", PASSWORD, agency="1505")  # written 15.05
        create_user(registry.engine, "jambi", PASSWORD, agency="15")
        key_31 = registry.create_api_key("31", "BKD DKI Jakarta")
    return {**seeded["runs"], "15": report.run_id, "key_31": key_31, "key": seeded["key"]}


def _client(web_app: Any, username: str) -> Any:
    client = web_app.test_client()
    assert log_in(client, username=username).status_code == 302
    return client


def _other_agencies_shown(html: str, runs: dict[str, Any], *codes: str) -> list[str]:
    """What of `codes`' agencies a page shows: links to their pages, budgets or runs, and
    their codes in the tables."""
    found = []
    for code in codes:
        for needle in (f'/dashboard/agencies/{code}"', f"/dashboard/budget/{code}?",
                       f'<span class="code">{code}</span>', f'/dashboard/runs/{runs[code]}"'):
            if needle in html:
                found.append(needle)
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_user_bound_to_an_agency_reads_only_that_agency(web_app: Any, tmp_path: Path) -> None:
    runs = _bind(web_app, tmp_path)
    national = _client(web_app, "siti")  # created before scopes: keeps the national view
    bound = _client(web_app, "rini")
    # Without the scope the pages show every agency (what finding 10 reported).
    assert any(_other_agencies_shown(national.get(p).text, runs, "31") for p in PAGES)
    for path in PAGES:
        response = bound.get(path)
        assert response.status_code == 200, path
        assert not _other_agencies_shown(response.text, runs, "31", "15"), path
    # Its own agency is there: runs, budget, coverage.
    assert f'/dashboard/runs/{runs["15.05"]}"' in bound.get("/dashboard/runs").text
    assert '<span class="code">15.05</span>' in bound.get("/dashboard/budget").text
    coverage = bound.get("/dashboard/coverage").text
    assert '<span class="code">15.05</span>' in coverage and 'id="scope-note"' in coverage
    # Another agency's pages do not exist for it; its own do.
    for path in (f"/dashboard/runs/{runs['31']}", f"/dashboard/runs/{runs['15']}",
                 f"/dashboard/runs/{runs['31']}/problems.csv", "/dashboard/agencies/31",
                 "/dashboard/agencies/15", "/dashboard/budget/31", "/dashboard/budget/15"):
        assert bound.get(path).status_code == 404, path
        assert national.get(path).status_code == 200, path
    own = runs["15.05"]
    for path in (f"/dashboard/runs/{own}", f"/dashboard/runs/{own}/problems.csv",
                 "/dashboard/agencies/15.05", "/dashboard/budget/15.05"):
        assert bound.get(path).status_code == 200, path
    # A spelling of another agency's code is the same 404, not a redirect to it.
    assert bound.get("/dashboard/agencies/3100").status_code == 404
    # A NIK search on another agency's page is refused with the page.
    token = csrf_of(bound.get("/dashboard/agencies/15.05").text)
    assert bound.post("/dashboard/agencies/31",
                      data={"nik": "3171234567890123", "csrf_token": token}).status_code == 404


def test_the_overview_shows_the_users_own_figures(web_app: Any, tmp_path: Path) -> None:
    runs = _bind(web_app, tmp_path)
    national = _client(web_app, "siti").get("/dashboard/?lang=en").text
    own = _client(web_app, "rini").get("/dashboard/?lang=en").text
    tiles = re.compile(r'class="tile s-(\w+)[^"]*" href="[^"]*"><span class="n">(\d+)</span>')
    # Nationally both seeded governments count (15.05 short, 31 without budget); the bound
    # user's tiles count its own government only.
    assert sum(int(n) for _, n in tiles.findall(national)) >= 2
    assert dict(tiles.findall(own)) == {"no_budget": "0", "shortfall": "1", "unchecked": "0",
                                        "sufficient": "0"}
    assert "All provinces" in national and "All provinces" not in own
    assert "Your agency&#39;s coverage" in own
    assert not _other_agencies_shown(own, runs, "31", "15")
    # The feed tiles count its own feed only.
    feed_tiles = re.findall(r'class="tile t-\w+[^"]*" href="[^"]*">\s*<span class="n">(\d+)',
                            own)
    assert sum(int(n) for n in feed_tiles) == 1


def test_a_province_user_reads_its_own_roster_not_its_regencies(
    web_app: Any, tmp_path: Path
) -> None:
    runs = _bind(web_app, tmp_path)
    jambi = _client(web_app, "jambi")
    assert jambi.get("/dashboard/agencies/15").status_code == 200
    assert jambi.get(f"/dashboard/runs/{runs['15']}").status_code == 200
    assert jambi.get("/dashboard/agencies/15.05").status_code == 404
    assert jambi.get(f"/dashboard/runs/{runs['15.05']}").status_code == 404
    listed = jambi.get("/dashboard/runs").text
    assert f'/dashboard/runs/{runs["15"]}"' in listed
    assert f'/dashboard/runs/{runs["15.05"]}"' not in listed
    # Coverage: the province government's own covered workers (the seeded 30, all started),
    # not the province-wide count that includes Muaro Jambi's.
    coverage = jambi.get("/dashboard/coverage").text
    row = re.search(r'<span class="code">15</span></td>\s*<td class="num"[^>]*>([\d.]+)</td>',
                    coverage)
    assert row and int(row.group(1).replace(".", "")) == 30
    national = _client(web_app, "siti").get("/dashboard/coverage").text
    province = re.search(r'<span class="code">15</span></td>\s*<td class="num"[^>]*>([\d.]+)</td>',
                         national)
    assert province and int(province.group(1).replace(".", "")) > 30
    # The overview says why its own roster is not set against the province-wide target.
    assert "target includes its regencies" in jambi.get("/dashboard/?lang=en").text


def _upload(client: Any, key: str, path: Path, action: str = "submit") -> Any:
    token = csrf_of(client.get("/dashboard/upload").text)
    with open(path, "rb") as fh:
        return client.post("/dashboard/upload", data={
            "csrf_token": token, "api_key": key, "action": action,
            "file": (fh, path.name)}, content_type="multipart/form-data")  # fmt: skip


def test_a_bound_user_uploads_only_for_its_agency(web_app: Any, tmp_path: Path) -> None:
    runs = _bind(web_app, tmp_path)
    engine = web_app.extensions["jamsos"].registry.engine
    roster = tmp_path / "dki.csv"
    write_csv(roster, generate_roster(5, seed=3, province="31"))
    bound = _client(web_app, "rini")
    for action in ("submit", "check"):
        refused = _upload(bound, runs["key_31"], roster, action)
        assert refused.status_code == 403, action
        assert "hanya untuk instansi 15.05" in refused.text
    # The refused roster recorded no run of DKI's: only the seeded one.
    listed = dashboard.list_runs(engine, agency="31", source=None, status=None, before=None,
                                 limit=10)
    assert [r["id"] for r in listed] == [runs["31"]]
    # Its own key goes through; without a login the key alone decides, as before. (Checks,
    # not submits: five rows would end most of the agency's workers.)
    own = tmp_path / "muaro.csv"
    write_csv(own, generate_roster(5, seed=4, regency="15.05"))
    mine = _upload(bound, runs["key"], own, "check")
    assert mine.status_code == 200 and "hanya untuk instansi" not in mine.text
    anonymous = _upload(web_app.test_client(), runs["key_31"], roster, "check")
    assert anonymous.status_code == 200 and "hanya untuk instansi" not in anonymous.text


def test_users_cannot_be_bound_to_an_unknown_agency_and_operators_stay_national(
    web_app: Any,
) -> None:
    engine = web_app.extensions["jamsos"].registry.engine
    with pytest.raises(UserError, match="tidak dikenal"):
        create_user(engine, "salah", PASSWORD, agency="99.99")
    with pytest.raises(UserError, match="nationally"):
        create_user(engine, "ops", PASSWORD, role="operator", agency="15.05")
    assert create_user(engine, "kemenkes", PASSWORD, agency="KEMENKES").agency == "kemenkes"
    # A ministry's user, with nothing sent yet: every page answers, empty, none shows others.
    ministry = _client(web_app, "kemenkes")
    for path in (*PAGES, "/dashboard/agencies/kemenkes"):
        response = ministry.get(path)
        assert response.status_code == 200, path
        assert "/dashboard/agencies/15.05" not in response.text, path
        assert "/dashboard/agencies/31" not in response.text, path


def test_the_bound_users_navigation_in_a_real_browser(
    chromium: Any, live_server: str, web_app: Any, tmp_path: Path
) -> None:
    runs = _bind(web_app, tmp_path)
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in_browser(page, live_server, "rini")
    assert "Muaro Jambi" in page.inner_text("#my-scope")
    test_browser.shot(page, "scope_01_overview")
    page.click("#my-agency")
    page.wait_for_selector("table.workers")
    assert page.url.endswith("/dashboard/agencies/15.05")
    page.click("header nav >> text=Run")
    page.wait_for_selector("table.grid")
    listed = {int(n) for n in re.findall(r"/dashboard/runs/(\d+)", page.content())}
    assert runs["15.05"] in listed and not listed & {runs["31"], runs["15"]}
    test_browser.shot(page, "scope_02_runs")
    answer = page.goto(f"{live_server}/dashboard/agencies/31")
    assert answer is not None and answer.status == 404
    context.close()


def test_a_changed_scope_applies_at_the_next_request(web_app: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gateway.cli import main

    runs = _bind(web_app, tmp_path)
    bound = _client(web_app, "rini")
    assert bound.get(f"/dashboard/runs/{runs['31']}").status_code == 404
    runner = CliRunner()
    with web_app.app_context():
        widened = runner.invoke(main, ["users", "scope", "rini", "--national"])
        assert widened.exit_code == 0, widened.output
        assert bound.get(f"/dashboard/runs/{runs['31']}").status_code == 200  # same session
        narrowed = runner.invoke(main, ["users", "scope", "siti", "--agency", "31"])
        assert narrowed.exit_code == 0, narrowed.output
    siti = _client(web_app, "siti")
    assert siti.get(f"/dashboard/runs/{runs['15.05']}").status_code == 404
    assert siti.get(f"/dashboard/runs/{runs['31']}").status_code == 200


def test_migration_0012_keeps_existing_users_national(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from gateway.store import db
    from gateway.store.users import get_user

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0011")
        # 0001 builds from today's tables: take away what 0012 adds, as a 0011 registry was
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN agency")
        conn.exec_driver_sql(
            "INSERT INTO users (username, password_hash, role, created_at) "
            "VALUES ('lama', 'x', 'viewer', '2026-01-01 00:00:00')"
        )
    db.upgrade(engine)
    assert "agency" in {c["name"] for c in inspect(engine).get_columns("users")}
    user = get_user(engine, 1)
    assert user is not None and user.agency is None and user.may_read("31")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
    assert "agency" not in {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()


# Every dashboard endpoint, by how it keeps to the user's scope: a new page fails the test
# below until it is placed here (and, if it shows an agency's data, filtered and tested above).
SCOPED = {"web.overview", "web.feeds_page", "web.agency", "web.budget", "web.budget_detail",
          "web.coverage_page", "web.runs_list", "web.run_detail", "web.problems_csv",
          "web.upload",
          "web.identity_conflicts",  # national only: tests/web/test_identity_conflicts_page.py
          # issue 21: tests/web/test_dashboard_tools.py (exports, NIK search, drill-down)
          "web.feeds_xlsx", "web.runs_xlsx", "web.problems_xlsx", "web.workers_xlsx",
          "web.budget_xlsx", "web.coverage_xlsx", "web.identity_conflicts_xlsx",
          "web.worker_search"}
SCOPED.add("web.verification_page")  # issue 19: tests/integration/test_verify_pages.py
# issue 17: tests/delivery/test_web.py (a bound user sees its agency's delivery only) and
# tests/integration/test_delivery_sipp_web.py (files: operators only; others see the batches)
SCOPED |= {"web.delivery_page", "web.delivery_rejected_xlsx", "web.delivery_files",
           "web.delivery_file", "web.delivery_files_uploaded", "web.delivery_files_answers"}
# issue 18: tests/reconcile/test_reconcile_page.py (a bound user sees its agency only)
SCOPED |= {"web.reconciliation_page", "web.reconciliation_differences_xlsx"}
# Nothing of an agency's, or only what this browser session itself submitted.
UNSCOPED = {"web.login", "web.logout", "web.static", "web.upload_run", "web.upload_run_status"}


def test_every_dashboard_page_is_placed_in_the_scope_rules(web_app: Any) -> None:
    endpoints = {r.endpoint for r in web_app.url_map.iter_rules() if r.endpoint.startswith("web.")}
    assert endpoints - SCOPED - UNSCOPED == set()
