"""The HTTP API through Flask's test client on a real registry (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re

import pytest

from tests.helpers.roster import worker_row, write_roster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def keys(gw):
    return {
        "15.05": gw.registry.create_api_key("15.05", "BKPSDM Muaro Jambi"),
        "31": gw.registry.create_api_key("31", "BKD DKI Jakarta"),
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, agency: str, path, token: str | None, url_suffix: str = "?wait=1"):
    headers = auth(token) if token else {}
    with open(path, "rb") as fh:
        return client.post(
            f"/api/v1/agencies/{agency}/rosters{url_suffix}",
            headers=headers,
            data={"file": (fh, path.name)},
            content_type="multipart/form-data",
        )


@pytest.fixture
def roster(tmp_path):
    rows = [worker_row(i) for i in range(5)]
    rows[2][3] = "31-02-1990"  # no such date
    return write_roster(tmp_path / "roster.csv", rows)


def test_submit_returns_the_report_and_the_same_file_again_the_same_run(client, keys, roster):
    first = upload(client, "15.05", roster, keys["15.05"])
    assert first.status_code == 201, first.json
    body = first.json
    assert (body["rows"], body["accepted"], body["rejected"]) == (5, 4, 1)
    assert body["columns"]["NIK"] == "nik"
    problem = body["problems"][0]
    assert problem["row"] == 4 and problem["field"] == "birth_date"
    assert problem["severity"] == "error" and problem["message_id"] and problem["message_en"]
    again = upload(client, "15.05", roster, keys["15.05"])
    assert again.status_code == 200
    assert again.json["run_id"] == body["run_id"] and again.json["replayed"] is True
    report = client.get(f"/api/v1/runs/{body['run_id']}", headers=auth(keys["15.05"]))
    assert report.status_code == 200 and report.json["accepted"] == 4
    assert len(report.json["problems"]) == 1


@pytest.mark.parametrize("token", [None, "jgw_deadbeef_nope", "garbage"])
def test_no_key_or_a_bad_key_is_401(client, keys, roster, token):
    response = upload(client, "15.05", roster, token)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert client.get("/api/v1/runs", headers=auth(token) if token else {}).status_code == 401


def test_another_agencys_key_is_403_for_submit_and_reads(client, keys, roster):
    assert upload(client, "15.05", roster, keys["31"]).status_code == 403
    run_id = upload(client, "15.05", roster, keys["15.05"]).json["run_id"]
    assert client.get(f"/api/v1/runs/{run_id}", headers=auth(keys["31"])).status_code == 403
    listed = client.get("/api/v1/runs", headers=auth(keys["31"])).json["runs"]
    assert listed == []
    nik = worker_row(0)[0]
    assert client.post("/api/v1/workers/lookup", json={"nik": nik},
                       headers=auth(keys["31"])).status_code == 404
    own = client.post("/api/v1/workers/lookup", json={"nik": nik}, headers=auth(keys["15.05"]))
    assert own.status_code == 200
    assert own.json["nik"] == f"{nik[:6]}******{nik[-4:]}"
    assert nik not in own.get_data(as_text=True)


def test_unknown_agency_is_a_clear_404(client, keys, roster):
    response = upload(client, "99.99", roster, keys["15.05"])
    assert response.status_code == 404
    assert response.json["error"] == "unknown_agency"


def test_missing_file_is_400(client, keys):
    response = client.post(
        "/api/v1/agencies/15.05/rosters",
        headers=auth(keys["15.05"]),
        data={},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and response.json["error"] == "file_missing"


def test_too_large_upload_is_a_clear_413(app, client, keys):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    big = io.BytesIO(b"NIK;Nama\n" + b"x" * 4096)
    response = client.post(
        "/api/v1/agencies/15.05/rosters",
        headers=auth(keys["15.05"]),
        data={"file": (big, "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.json["error"] == "file_too_large"
    assert "MB" in response.json["message_id"]
    # Never "split the roster": each file is a snapshot, and would end the others' workers.
    assert "Do not split the roster" in response.json["message_en"]
    assert "Jangan memecah roster" in response.json["message_id"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/nope", 404), ("GET", "/api/nope", 404), ("GET", "/api/v1/runs/abc", 404),
     ("GET", "/api/v1/runs/-1", 404), ("GET", "/api/v1/budget/15.05/abc", 404),
     ("POST", "/api/v1/runs", 405), ("PUT", "/api/v1/agencies/15.05/rosters", 405),
     ("POST", "/api/v1/openapi.json", 405)],
)  # fmt: skip
def test_an_unknown_api_path_or_method_is_answered_in_json(client, keys, method, path, status):
    response = client.open(path, method=method, headers=auth(keys["15.05"]))
    assert response.status_code == status and response.is_json  # was Werkzeug's HTML page
    assert response.json["error"] == {404: "not_found", 405: "method_not_allowed"}[status]
    assert response.json["message_id"] and response.json["message_en"]
    if status == 405:
        assert "OPTIONS" in response.headers["Allow"]  # and what the path does take


def test_api_answers_are_never_cached(client, keys, roster):
    submitted = upload(client, "15.05", roster, keys["15.05"])
    nik = worker_row(0)[0]
    for response in (submitted, client.post("/api/v1/workers/lookup", json={"nik": nik},
                                            headers=auth(keys["15.05"])),
                     client.get("/api/v1/runs", headers=auth(keys["15.05"]))):  # fmt: skip
        assert response.headers["Cache-Control"] == "no-store"


def test_outside_the_api_a_missing_page_stays_a_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and not response.is_json


def test_check_endpoint_writes_nothing(client, keys, roster, gw):
    response = upload(client, "15.05", roster, keys["15.05"], "/check")
    assert response.status_code == 200 and response.json["accepted"] == 4
    assert gw.registry.list_runs() == []


def test_a_file_that_is_not_a_roster_is_rejected_with_a_recorded_run(client, keys, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello;world\n1;2\n")
    response = upload(client, "15.05", path, keys["15.05"])
    assert response.status_code == 422
    assert response.json["status"] == "rejected"
    assert response.json["problems"][0]["row"] == 1
    runs = client.get("/api/v1/runs", headers=auth(keys["15.05"])).json["runs"]
    assert runs[0]["status"] == "rejected"


def test_openapi_document_matches_the_routes(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed


def test_an_xlsx_roster_submits_like_a_csv(client, keys, tmp_path):
    from openpyxl import Workbook

    from tests.helpers.roster import HEADER

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for i in range(4):
        sheet.append(worker_row(i))
    sheet.append([3171011708450001, "Angka Bukan Teks", "L", "17-08-1945", "Sopir",
                  "Rp 3.000.000", "01-01-2024"])
    sheet.append([None, "JUMLAH", None, None, None, "Rp 15.000.000", None])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    response = upload(client, "15.05", path, keys["15.05"])
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["rows"], body["accepted"], body["rejected"]) == (5, 4, 1)
    codes = {(p["row"], p["code"]) for p in body["problems"]}
    assert (6, "nik_numeric_cell") in codes  # a number-typed NIK cell: digits already lost
    assert (7, "totals_row_skipped") in codes  # the JUMLAH row is never a worker


@pytest.mark.parametrize("url", ["/api/v1/runs/99999999999999999999999",
                                 "/api/v1/runs?before=99999999999999999999999",
                                 "/api/v1/budget/15.05/99999", "/api/v1/budget/15.05/1"])
def test_out_of_range_numbers_are_a_clear_4xx_not_a_crash(client, keys, url):
    response = client.get(url, headers=auth(keys["15.05"]))
    assert response.status_code in (200, 400, 404)
    assert response.is_json


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=-1", "limit=501",
                                   "before=abc", "before=0", "limit=1.5"])
def test_a_runs_page_parameter_out_of_range_is_a_400(client, keys, query):
    """They were silently clamped or ignored: the client got a page it had not asked for."""
    response = client.get(f"/api/v1/runs?{query}", headers=auth(keys["15.05"]))
    assert response.status_code == 400 and response.json["error"] == "query_invalid"
    assert query.split("=")[0] in response.json["message_en"]
    assert "e+" not in response.json["message_en"]  # "1 to 9.22337e+18" before


@pytest.mark.parametrize("backend", ["sqlite"])  # a lock another process holds, for real
def test_a_database_locked_past_the_busy_timeout_is_a_json_503(client, keys, roster, gw, backend):
    import sqlite3

    from sqlalchemy import event

    gw.engine.dispose()

    @event.listens_for(gw.engine, "connect")
    def _short_timeout(dbapi_conn, _record):  # 0.2 s instead of 30: same path, faster test
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    holder = sqlite3.connect(gw.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # e.g. `jamsos keys rotate` or a long apply elsewhere
    try:
        locked = upload(client, "15.05", roster, keys["15.05"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.status_code == 503
    assert locked.headers["Retry-After"] == "60"
    assert locked.json["error"] == "database_unavailable"
    assert "nothing was applied" in locked.json["message_en"] and locked.json["message_id"]

    retried = upload(client, "15.05", roster, keys["15.05"])  # the lock gone: applied once
    assert retried.status_code == 201, retried.json
    runs = client.get("/api/v1/runs", headers=auth(keys["15.05"])).json
    assert len(runs["runs"]) == 1


def test_a_workers_history_is_in_the_lookup(client, keys, gw, tmp_path):
    """The registry kept every change, but no lookup showed it (exploratory testing)."""
    from datetime import date

    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster

    def send(name, rows):
        return submit_roster(gw.registry, write_roster(tmp_path / name, rows),
                             agency=resolve_agency("15.05"), today=date(2026, 11, 21),
                             trigger="test").run_id  # fmt: skip

    first = send("a.csv", [worker_row(1), worker_row(2)])
    raised = send("b.csv", [worker_row(1), worker_row(2, wage=4_000_000)])
    gone = send("c.csv", [worker_row(1)])
    back = send("d.csv", [worker_row(1), worker_row(2, wage=4_000_000)])
    found = client.post("/api/v1/workers/lookup", json={"nik": worker_row(2)[0]},
                        headers=auth(keys["15.05"])).json
    history = found["enrollments"][0]["history"]
    assert [(h["change"], h["run_id"]) for h in history] == [
        ("new", first), ("changed", raised), ("ended", gone), ("reactivated", back)]
    assert (history[1]["before"]["wage"], history[1]["after"]["wage"]) == (3_500_000, 4_000_000)
    assert history[2]["after"]["end_date"] == "2026-11-21"
    assert all(h["at"].endswith("+00:00") for h in history)
    assert worker_row(2)[1] not in str(history)  # facts only: never the name

