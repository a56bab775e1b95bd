"""Authorization matrix: every API endpoint for no key, a bad key, the agency's own key and a
foreign agency's key. A new route without a row here fails the test."""

from __future__ import annotations

import csv
import io
import logging
import re

import pytest

from tests.helpers.roster import worker_row, write_roster

PUBLIC = {("GET", "/api/v1/openapi.json"), ("GET", "/api/v1/receipt-key")}

# (method, path template) -> status for (own key, foreign key); foreign sees nothing of ours.
MATRIX = {
    ("POST", "/api/v1/agencies/{code}/rosters"): (201, 403),
    ("POST", "/api/v1/agencies/{code}/rosters/check"): (200, 403),
    ("GET", "/api/v1/runs"): (200, 200),  # the list is scoped: foreign gets its own (none)
    ("GET", "/api/v1/runs/{run_id}"): (200, 403),
    ("POST", "/api/v1/workers/lookup"): (200, 404),  # the NIK in the body (finding 7)
    ("GET", "/api/v1/workers/{nik}"): (410, 410),  # gone: a NIK in a URL is logged
    ("GET", "/api/v1/budget/{government}/{year}"): (200, 403),
    ("GET", "/api/v1/coverage"): (200, 200),  # aggregate counts, no PII
    ("GET", "/api/v1/identity-conflicts"): (200, 200),  # scoped: the key's agency's own rows
}
# Identity verification (issue 19): a run's is its agency's; the summary is the key's own.
MATRIX |= {("GET", "/api/v1/runs/{run_id}/verification"): (200, 403),
           ("GET", "/api/v1/verification"): (200, 200)}
# Delivery (issue 17) and reconciliation (issue 18): each key reads and maps its own agency
# only; another agency's employer cannot be removed; adding one always adds to the key's own.
MATRIX |= {("GET", "/api/v1/employers"): (200, 200),
           ("POST", "/api/v1/employers"): (201, 201),
           ("DELETE", "/api/v1/employers/{employer_id}"): (204, 403),
           ("GET", "/api/v1/mutations"): (200, 200),
           ("GET", "/api/v1/delivery"): (200, 200),
           ("GET", "/api/v1/reconciliation"): (200, 200),
           ("GET", "/api/v1/reconciliation/differences"): (200, 200),
           ("GET", "/api/v1/reconciliation/billing"): (200, 200)}


@pytest.fixture
def world(gw, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    own = gw.registry.create_api_key("15.05")
    foreign = gw.registry.create_api_key("31")
    from gateway.delivery.employers import register_employer

    register_employer(gw, agency="15.05", kind="npp", npp="12345678", division=None,
                      segment=None, work_unit=None, destination="bpjs-h2h")  # employer 1
    return {"own": own, "foreign": foreign, "roster": roster.read_bytes()}


def call(client, method, template, token, world, run_id=1):
    url = template.format(code="15.05", run_id=run_id, nik=worker_row(0)[0],
                          government="15.05", year=2026, employer_id=1)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if template == "/api/v1/workers/lookup":
        return client.post(url, headers=headers, json={"nik": worker_row(0)[0]})
    if template == "/api/v1/employers" and method == "POST":  # a work unit of the key's own
        unit = f"Unit {len(headers.get('Authorization', ''))} {token}"[:60]
        return client.post(url, headers=headers, json={
            "npp": "87654321", "destination": "bpjs-h2h", "work_unit": unit})
    if method == "DELETE":
        return client.delete(url, headers=headers)
    if method == "POST":
        url += "?wait=1" if url.endswith("/rosters") else ""  # applied, not only accepted
        return client.post(url, headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(world["roster"]), "r.csv")})
    return client.get(url, headers=headers)


def test_the_matrix_covers_every_route(app):
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == set(MATRIX) | PUBLIC


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_every_route_for_every_kind_of_caller(client, world, route):
    method, template = route
    own_status, foreign_status = MATRIX[route]
    # Submit first so that run 1 and the worker exist.
    assert call(client, "POST", "/api/v1/agencies/{code}/rosters", world["own"], world
                ).status_code in (200, 201)
    assert call(client, method, template, None, world).status_code == 401
    assert call(client, method, template, "jgw_0000_forged", world).status_code == 401
    foreign = call(client, method, template, world["foreign"], world)
    assert foreign.status_code == foreign_status
    if route == ("GET", "/api/v1/runs"):
        assert foreign.json["runs"] == []
    own = call(client, method, template, world["own"], world)
    replay = own_status == 201 and template.endswith("/rosters")  # a roster sent again
    assert own.status_code == (200 if replay else own_status)


def test_no_plaintext_nik_in_logs_or_error_answers(client, world, caplog):
    caplog.set_level(logging.DEBUG)
    nik = worker_row(0)[0]
    bad = worker_row(1)
    bad[5] = "-"
    roster = write_roster_bytes([worker_row(0), bad, worker_row(0)])
    answers = [
        client.post("/api/v1/agencies/15.05/rosters?wait=1",
                    headers={"Authorization": f"Bearer {world['own']}"},
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO(roster), "r.csv")}),
        client.post("/api/v1/workers/lookup", json={"nik": nik},
                    headers={"Authorization": f"Bearer {world['foreign']}"}),
        client.post("/api/v1/workers/lookup", json={"nik": nik}),
        client.get(f"/api/v1/no-such-thing/{nik}"),
    ]
    text = caplog.text + "".join(a.get_data(as_text=True) for a in answers)
    assert nik not in text and bad[0] not in text
    assert answers[0].json["rejected"] == 2  # the wage error and the duplicate were reported


def write_roster_bytes(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["NIK", "Nama Lengkap", "Jenis Kelamin", "Tanggal Lahir", "Jabatan", "Gaji",
                     "TMT"])
    writer.writerows(rows)
    return buffer.getvalue().encode()
