"""The agency's delivery API: its employers, its mutations and their states, each answer
checked against the OpenAPI document."""

from __future__ import annotations

from tests.helpers.delivery import Counterpart, employer, roster, row, run
from tests.integration.test_api_contract import conforms


def test_an_agency_manages_its_employers_and_reads_its_own_mutations(
        app, client, gw, counterpart: Counterpart, tmp_path):  # fmt: skip
    spec = client.get("/api/v1/openapi.json").json
    auth = {"Authorization": f"Bearer {gw.registry.create_api_key('15.05')}"}
    other = {"Authorization": f"Bearer {gw.registry.create_api_key('31')}"}
    made = client.post("/api/v1/employers", headers=auth, json={
        "npp": "12345678", "division": "001", "destination": "double"})
    assert made.status_code == 201 and made.json["agency"] == "15.05"
    bad = client.post("/api/v1/employers", headers=auth, json={
        "npp": "123", "destination": "double"})
    assert bad.status_code == 422 and "8 digits" in bad.json["message_en"]
    overlap = client.post("/api/v1/employers", headers=auth, json={
        "npp": "87654321", "destination": "double"})
    assert overlap.status_code == 422 and "overlaps" in overlap.json["message_en"]
    listed = client.get("/api/v1/employers", headers=auth)
    assert [e["npp"] for e in listed.json["employers"]] == ["12345678"]
    assert client.get("/api/v1/employers", headers=other).json["employers"] == []

    counterpart.reject = {row(1)[0]}
    roster(gw, tmp_path, [row(0), row(1), row(2, unit="Satpol PP")])
    employer(gw, npp="55555555", work_unit="Satpol *")
    run(gw, counterpart)
    mutations = client.get("/api/v1/mutations", headers=auth)
    states = sorted(m["state"] for m in mutations.json["mutations"])
    assert states == ["accepted", "accepted", "rejected"]
    rejected = client.get("/api/v1/mutations?state=rejected", headers=auth).json["mutations"]
    assert rejected[0]["reason_en"] == "NIK unknown to Dukcapil"
    assert "nik" not in rejected[0] and "name" not in rejected[0]
    assert client.get("/api/v1/mutations", headers=other).json["mutations"] == []
    summary = client.get("/api/v1/delivery", headers=auth)
    assert sum(c["n"] for c in summary.json["counts"]) == 3
    in_use = client.delete(f"/api/v1/employers/{made.json['id']}", headers=auth)
    assert in_use.status_code == 409
    foreign = client.delete(f"/api/v1/employers/{made.json['id']}", headers=other)
    assert foreign.status_code == 403
    cases = [
        ("/api/v1/employers", "post", made), ("/api/v1/employers", "post", bad),
        ("/api/v1/employers", "get", listed), ("/api/v1/mutations", "get", mutations),
        ("/api/v1/mutations", "get", client.get("/api/v1/mutations?state=x", headers=auth)),
        ("/api/v1/delivery", "get", summary),
        ("/api/v1/employers/{employer_id}", "delete", in_use),
        ("/api/v1/employers/{employer_id}", "delete", foreign),
        ("/api/v1/employers/{employer_id}", "delete",
         client.delete("/api/v1/employers/999", headers=auth)),
    ]  # fmt: skip
    for route, method, response in cases:
        conforms(spec, route, method, response)
