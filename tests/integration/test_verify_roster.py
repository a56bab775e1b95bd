"""A roster through the real API, verified in the background against the loopback Dukcapil
service over HTTP, then delivered (issue 19, "Done when"): the deceased person and the name
mismatch are listed for the clerk with their spreadsheet rows, bilingual, with what to do;
their mutations wait while the others go."""

from __future__ import annotations

import io
from datetime import date
from typing import ClassVar

import pytest
from jamsos_dukcapil.server import DukcapilServer

from gateway import Ack, Destination
from gateway.delivery.outbox import deliver
from gateway.store.employers import add_employer
from gateway.verify import queue
from gateway.verify.gate import delivery_holds
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.verify import PASSWORD_ENV, nik_of, population, resident, settings_for
from tests.integration.test_api_contract import conforms


class Recording(Destination):
    """A push destination that accepts everything and remembers what it was sent."""

    __test__ = False
    id = "recording"
    channel = "push"
    sent: ClassVar[list] = []

    def send(self, mutations):
        self.sent.extend(mutations)
        return [Ack(m.key, "accepted") for m in mutations]


@pytest.fixture
def dukcapil(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "rahasia-demo")
    with DukcapilServer(population(range(4))) as server:
        server.add(resident(1, name="Rahmat Hidayat"))  # the registry knows another name
        server.set_status(nik_of(2), "deceased")
        yield server


def spec(client):
    return client.get("/api/v1/openapi.json").json


def test_the_verification_routes_answer_errors_as_documented(gw, client, tmp_path):
    key = gw.registry.create_api_key("15.05")
    other = gw.registry.create_api_key("31")
    run_id = upload(client, key, tmp_path)
    document = spec(client)
    route, summary = "/api/v1/runs/{run_id}/verification", "/api/v1/verification"
    for token, url, status in ((key, "/api/v1/runs/999/verification", 404),
                               (other, f"/api/v1/runs/{run_id}/verification", 403),
                               (None, f"/api/v1/runs/{run_id}/verification", 401)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = client.get(url, headers=headers)
        assert answer.status_code == status
        conforms(document, route, "get", answer)
    bad = client.get("/api/v1/verification?limit=0", headers={"Authorization": f"Bearer {key}"})
    assert bad.status_code == 400
    conforms(document, summary, "get", bad)
    # Not configured: nothing verified, everyone pending, and the answer says so in counts.
    quiet = client.get("/api/v1/verification", headers={"Authorization": f"Bearer {other}"})
    conforms(document, summary, "get", quiet)
    assert quiet.json["counts"]["total"] == 0 and quiet.json["problems"] == []


def upload(client, key, tmp_path):
    path = write_roster(tmp_path / "pegawai.csv", [worker_row(i) for i in range(4)])
    answer = client.post("/api/v1/agencies/15.05/rosters?wait=1",
                         headers={"Authorization": f"Bearer {key}"},
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(path.read_bytes()), "pegawai.csv")})
    assert answer.status_code == 201, answer.json
    return answer.json["run_id"]


def test_deceased_and_mismatch_are_listed_for_the_clerk_and_their_mutations_wait(
    gw, client, tmp_path, dukcapil
):
    gw.config["VERIFICATION"] = settings_for(dukcapil)
    key = gw.registry.create_api_key("15.05")
    run_id = upload(client, key, tmp_path)
    assert queue.idle(30), "the background verification did not finish"

    answer = client.get(f"/api/v1/runs/{run_id}/verification",
                        headers={"Authorization": f"Bearer {key}"})
    conforms(spec(client), "/api/v1/runs/{run_id}/verification", "get", answer)
    body = answer.json
    listed = {p["row"]: p for p in body["problems"]}
    assert sorted(listed) == [3, 4]  # worker 1 and worker 2 (the header is row 1)
    assert listed[3]["outcome"] == "mismatch" and listed[3]["elements"] == ["name"]
    assert listed[4]["outcome"] == "deceased" and listed[4]["code"] == "11"
    for p in listed.values():
        assert p["message_id"] and p["message_en"] and p["message_id"] != p["message_en"]
    assert "Periksa ejaan" in listed[3]["message_id"]
    assert "remove them from the roster" in listed[4]["message_en"]
    assert body["counts"]["match"] == 2 and body["counts"]["pending"] == 0
    summary = client.get("/api/v1/verification", headers={"Authorization": f"Bearer {key}"})
    conforms(spec(client), "/api/v1/verification", "get", summary)
    assert summary.json["counts"]["problems"] == 2
    assert {p["row"] for p in summary.json["problems"]} == {3, 4}

    # Delivery: the two wait, the two matched go.
    add_employer(gw.engine, agency="15.05", kind="npp", npp="15070955", division="001",
                 name="Pemkab Muaro Jambi", destination="recording")  # fmt: skip
    Recording.sent = []
    result = deliver(gw, "recording", destination=Recording({}))
    assert result.status == "succeeded", result.error
    assert sorted(m.nik for m in Recording.sent) == sorted([nik_of(0), nik_of(3)])
    assert result.counts["waiting_verification"] == 2


def test_before_delivery_policy_send_and_hold(gw, tmp_path, dukcapil):
    from gateway.domain.agencies import resolve_agency
    from gateway.roster.submit import submit_roster
    from gateway.verify.run import verify_pending
    from gateway.verify.settings import verification_settings

    path = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(5)])
    submit_roster(gw.registry, path, agency=resolve_agency("15.05"), today=date(2025, 6, 2),
                  trigger="test", batch_size=50)  # fmt: skip
    dukcapil.quota = 4  # worker 4 stays unverified
    config = {"VERIFICATION": settings_for(dukcapil)}
    verify_pending(gw.engine, gw.keyring, gw.plugins, verification_settings(config))
    ids = _worker_ids(gw)
    with gw.engine.connect() as conn:
        wait = delivery_holds(conn, ids, config)
        hold = delivery_holds(conn, ids, {"VERIFICATION": {**config["VERIFICATION"],
                                                           "before_delivery": "hold"}})
        send = delivery_holds(conn, ids, {"VERIFICATION": {**config["VERIFICATION"],
                                                           "before_delivery": "send"}})
        off = delivery_holds(conn, ids, {})
    assert {h.outcome: h.state for h in wait.values()} == {
        "mismatch": "wait", "deceased": "wait", "pending": "wait"}
    assert {h.outcome: h.state for h in hold.values()} == {
        "mismatch": "hold", "deceased": "hold", "pending": "wait"}
    assert send == {} and off == {}
    assert all(h.reason_id.startswith("Menunggu") and h.reason_en.startswith("Waiting")
               for h in wait.values())


def _worker_ids(gw):
    from sqlalchemy import select

    from gateway.store.tables import workers

    with gw.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(workers.c.id).order_by(workers.c.id))]
