"""The host-to-host destination against the loopback BPJS service over real HTTP: signing,
KPJs, every rejection reason, idempotency keys, and each fault kind (slow, dropped, 5xx, 429
with Retry-After, a repeated answer), proved by the service's own log."""

from __future__ import annotations

import json
from datetime import date

import pytest
import requests
from jamsos_bpjs_h2h import BpjsHostToHost
from jamsos_bpjs_h2h.rules import Rules
from jamsos_bpjs_h2h.server import BpjsServer
from jamsos_bpjs_h2h.signing import sign

from gateway import DeliveryError, Employer, Gender, OutgoingMutation, make_nik
from gateway.delivery.catalog import make_destination
from gateway.sources.loader import make_plugin_manager

SECRET = "s3cret-h2h"
DINAS = Employer(1, "31", "npp", "15070955", "001", name="Pemprov DKI")
RSUD = Employer(2, "31", "npp", "15070956", "002", name="RSUD")
WADAH = Employer(3, "15.05", "wadah", "88000001", segment="SD", name="Desa Sungai Gelam")


def nik(i: int, region: str = "31.74") -> str:
    return make_nik(region, date(1990, 1, 1 + i % 28), Gender.MALE, serial=1 + i)


def mutation(i: int, kind: str = "new", employer: Employer = DINAS, **over) -> OutgoingMutation:
    values = dict(
        key=f"k{i}-{kind}-{employer.npp}", kind=kind, month="2026-12", employer=employer,
        nik=nik(i), name=f"Pekerja {i}", birth_date=date(1990, 1, 1 + i % 28), gender="L",
        wage=5_500_000, start_date=date(2026, 12, 1), agency=employer.agency,
    )  # fmt: skip
    if kind == "ended":
        values.update(end_date=date(2026, 12, 20), end_reason="contract_ended")
    values.update(over)
    return OutgoingMutation(**values)


@pytest.fixture
def bpjs(tmp_path):
    rules = Rules(
        registered={"15070955", "15070956", "88000001"},
        unknown_niks={nik(900)},
        minimum_wages={"31": 5_396_761, "15.05": 3_234_533},
        closed_through="2026-10",
    )
    with BpjsServer(tmp_path / "bpjs.sqlite", rules=rules, consumers={"jamsos": SECRET}) as srv:
        yield srv


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def dest(bpjs, monkeypatch, sleeps):
    monkeypatch.setenv("BPJS_H2H_SECRET", SECRET)
    settings = {"url": bpjs.url, "consumer_id": "jamsos", "secret": "$env:BPJS_H2H_SECRET",
                "timeout": 0.5, "connect_timeout": 0.5, "http_retries": 3, "http_backoff": 0.01,
                "ack_wait": 5, "page_size": 50}  # fmt: skip
    return BpjsHostToHost(settings, sleep=sleeps.append)


def deliver(dest, bpjs, mutations):
    """Send, let BPJS work, read every answer: {key: Ack}."""
    dest.send(mutations)
    bpjs.settle()
    return poll_all(dest)


def poll_all(dest, cursor=None):
    found = {}
    while True:
        page = dest.poll(cursor)
        found.update({ack.key: ack for ack in page.acks})
        cursor = page.cursor
        if not page.more:
            return found


def test_the_plugin_registers_the_destination_with_its_settings(bpjs, tmp_path):
    secret = tmp_path / "h2h.secret"
    secret.write_text(SECRET + "\n")
    pm = make_plugin_manager(allow=["bpjs_h2h"])
    dest = make_destination(pm, "bpjs-h2h", {"bpjs-h2h": {
        "url": bpjs.url, "consumer_id": "jamsos", "secret": f"$file:{secret}"}})  # fmt: skip
    assert isinstance(dest, BpjsHostToHost) and dest.channel == "push"
    assert dest.send([mutation(1)]) == []  # 202: the answer comes later
    bpjs.settle()
    assert poll_all(dest)[mutation(1).key].outcome == "accepted"


def test_kpj_is_11_digits_and_follows_the_person_across_employers(dest, bpjs):
    acks = deliver(dest, bpjs, [mutation(1), mutation(2)])
    kpj = acks[mutation(1).key].kpj
    assert kpj.isdigit() and len(kpj) == 11 and kpj != acks[mutation(2).key].kpj
    # Active under DINAS: RSUD (another NPP) cannot take them on ...
    acks = deliver(dest, bpjs, [mutation(1, employer=RSUD)])
    ack = acks[mutation(1, employer=RSUD).key]
    assert (ack.outcome, ack.reason_code) == ("rejected", "already_active_elsewhere")
    assert "pemberi kerja lain" in ack.reason_id and "another employer" in ack.reason_en
    # ... until DINAS ends them; then RSUD gets the same KPJ back.
    acks = deliver(dest, bpjs, [mutation(1, "ended"), mutation(1, employer=RSUD, key="again")])
    assert acks[mutation(1, "ended").key].outcome == "accepted"
    assert (acks["again"].outcome, acks["again"].kpj) == ("accepted", kpj)
    member = bpjs.ledger.members()[nik(1)]
    assert (member["npp"], member["active"], member["kpj"]) == ("15070956", 1, kpj)


def test_each_rejection_reason_in_both_languages(dest, bpjs):
    stranger = Employer(9, "31", "npp", "99999999", "001")
    sent = {
        "nik_unknown": mutation(900),
        "wage_below_minimum": mutation(3, wage=3_000_000),
        "employer_not_registered": mutation(4, employer=stranger),
        "month_closed": mutation(5, start_date=date(2026, 10, 31)),
        "not_a_member": mutation(6, "wage"),
        "invalid_mutation": mutation(7, gender="X"),
    }
    acks = deliver(dest, bpjs, list(sent.values()))
    for code, m in sent.items():
        ack = acks[m.key]
        assert (ack.outcome, ack.reason_code, ack.kpj) == ("rejected", code, None), code
        assert ack.reason_id and ack.reason_en and ack.reason_id != ack.reason_en
    assert "Rp 3.000.000" in acks[sent["wage_below_minimum"].key].reason_id
    assert "5.396.761" in acks[sent["wage_below_minimum"].key].reason_en
    assert "NPP 99999999" in acks[sent["employer_not_registered"].key].reason_en
    assert bpjs.ledger.members() == {}  # a rejection registers nobody
    # A wadah worker (pekerja rentan, segment SD) is not held to a wage earner's minimum.
    acks = deliver(dest, bpjs, [mutation(8, employer=WADAH, wage=16_800)])
    assert acks[mutation(8, employer=WADAH).key].outcome == "accepted"
    assert bpjs.ledger.members()[nik(8)]["segment"] == "SD"


def test_wage_identity_and_ending_change_the_membership(dest, bpjs):
    deliver(dest, bpjs, [mutation(1)])
    acks = deliver(dest, bpjs, [
        mutation(1, "wage", wage=6_000_000),
        mutation(1, "identity", name="Pekerja Satu"),
        mutation(1, "ended"),
    ])  # fmt: skip
    assert {a.outcome for a in acks.values()} == {"accepted"}
    member = bpjs.ledger.members()[nik(1)]
    assert (member["wage"], member["name"], member["active"]) == (6_000_000, "Pekerja Satu", 0)
    assert (member["end_date"], member["end_reason"]) == ("2026-12-20", "contract_ended")


def test_the_same_key_twice_is_acknowledged_again_never_applied_twice(dest, bpjs):
    first = deliver(dest, bpjs, [mutation(1), mutation(2)])
    dest.send([mutation(1), mutation(2)])
    bpjs.settle()
    repeats = [a for a in poll_all(dest, None).values()]
    log = bpjs.ledger.received()
    assert {k: v["times_received"] for k, v in log.items()} == {
        mutation(1).key: 2, mutation(2).key: 2}  # fmt: skip
    assert len(bpjs.ledger.members()) == 2
    assert [a.kpj for a in repeats] == [first[a.key].kpj for a in repeats]
    raw = bpjs.ledger.acks(0, 100)
    assert [a["repeat"] for a in raw] == [False, False, True, True]


def test_acknowledgements_page_from_the_cursor(dest, bpjs):
    dest.send([mutation(i) for i in range(120)])
    bpjs.settle()
    page = dest.poll(None)
    assert len(page.acks) == 50 and page.more
    second = dest.poll(page.cursor)
    assert {a.key for a in second.acks}.isdisjoint({a.key for a in page.acks})
    assert len(poll_all(dest, second.cursor)) == 20


def test_poll_waits_for_answers_still_being_made_then_gives_up(dest, bpjs):
    bpjs.hold_acks()
    dest.settings["ack_wait"] = 0.3
    dest.send([mutation(1)])
    page = dest.poll(None)
    assert (page.acks, page.more, page.cursor) == ([], False, "0")
    bpjs.hold_acks(False)
    dest.settings["ack_wait"] = 10
    assert [a.outcome for a in dest.poll(None).acks] == ["accepted"]


# -- signing ---------------------------------------------------------------------------------
def post(bpjs, body: bytes, headers: dict) -> requests.Response:
    return requests.post(bpjs.url + "/mutations", data=body, headers=headers, timeout=5)


def test_requests_must_be_signed_by_a_known_consumer_within_five_minutes(bpjs):
    body = json.dumps({"mutations": [{"idempotency_key": "x"}]}).encode()
    path = "/h2h/v1/mutations"
    cases = {
        "signature_invalid": sign("jamsos", "wrong", "POST", path, body),
        "consumer_unknown": sign("someone", SECRET, "POST", path, body),
        "timestamp_skew": sign("jamsos", SECRET, "POST", path, body, now=1e9),
        "timestamp_invalid": {**sign("jamsos", SECRET, "POST", path, body), "X-Timestamp": "x"},
    }
    for code, headers in cases.items():
        answer = post(bpjs, body, headers)
        assert answer.status_code == 401, code
        error = answer.json()["error"]
        assert error["code"] == code and error["message_id"] and error["message_en"]
    # The signature covers the body: the same headers on another batch are refused.
    headers = sign("jamsos", SECRET, "POST", path, body)
    assert post(bpjs, body.replace(b'"x"', b'"y"'), headers).status_code == 401
    assert post(bpjs, body, headers).status_code == 202
    assert list(bpjs.ledger.received()) == ["x"]


def test_a_wrong_secret_fails_at_once_without_retrying(dest, bpjs, monkeypatch, sleeps):
    monkeypatch.setenv("BPJS_H2H_SECRET", "not-it")
    with pytest.raises(DeliveryError) as caught:
        dest.send([mutation(1)])
    assert (caught.value.retryable, caught.value.status) == (False, 401)
    assert "signature_invalid" in str(caught.value) and "tidak cocok" in str(caught.value)
    assert bpjs.requests == [("submit", 401)] and sleeps == []
    assert bpjs.ledger.received() == {}


def test_a_malformed_batch_is_a_4xx_and_never_retried(dest, bpjs, sleeps):
    with pytest.raises(DeliveryError) as caught:
        dest.send([mutation(1, key="")])
    assert (caught.value.retryable, caught.value.status) == (False, 400)
    assert bpjs.requests == [("submit", 400)] and sleeps == []


# -- faults ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["http500", "http503", "drop", "slow"])
def test_transient_faults_are_retried_and_bpjs_applies_each_mutation_once(
    dest, bpjs, sleeps, kind
):
    bpjs.fail("submit", kind, times=2, seconds=1.0)  # slow: twice the client's timeout
    batch = [mutation(i) for i in range(5)]
    dest.send(batch)
    bpjs.settle()
    assert [status for _, status in bpjs.requests] == (
        [500, 500, 202] if kind == "http500" else [503, 503, 202] if kind == "http503"
        else [0, 0, 202] if kind == "drop" else [202, 202, 202]
    )  # fmt: skip
    assert sleeps == [0.01, 0.02]  # exponential backoff
    log = bpjs.ledger.received()
    arrived = 3 if kind in ("drop", "slow") else 1  # the lost answers' batches did arrive
    assert {v["times_received"] for v in log.values()} == {arrived}
    assert len(log) == 5 and len(bpjs.ledger.members()) == 5
    acks = poll_all(dest)
    assert {a.outcome for a in acks.values()} == {"accepted"} and len(acks) == 5


def test_429_waits_as_long_as_retry_after_says(dest, bpjs, sleeps):
    bpjs.fail("submit", "429", times=1, seconds=7)
    dest.send([mutation(1)])
    assert sleeps == [7.0]
    assert [status for _, status in bpjs.requests] == [429, 202]
    assert len(bpjs.ledger.received()) == 1


def test_a_retry_after_beyond_max_wait_is_handed_back_to_the_outbox(dest, bpjs, sleeps):
    bpjs.fail("submit", "429", times=1, seconds=600)
    with pytest.raises(DeliveryError) as caught:
        dest.send([mutation(1)])
    assert caught.value.retryable and caught.value.retry_after == 600 and sleeps == []
    assert bpjs.ledger.received() == {}


def test_spent_retries_leave_the_batch_retryable(dest, bpjs, sleeps):
    bpjs.fail("submit", "http503", times=10)
    with pytest.raises(DeliveryError) as caught:
        dest.send([mutation(1)])
    assert caught.value.retryable and caught.value.status == 503
    assert "4 percobaan" in str(caught.value) and "4 attempts" in str(caught.value)
    assert len(sleeps) == 3 and bpjs.ledger.received() == {}


def test_acks_reading_survives_faults_and_a_repeated_answer(dest, bpjs, sleeps):
    dest.send([mutation(i) for i in range(60)])
    bpjs.settle()
    first = dest.poll(None)
    bpjs.fail("acks", "repeat")
    again = dest.poll(first.cursor)
    assert {a.key for a in first.acks} <= {a.key for a in again.acks}  # answered again
    for kind in ("drop", "http500", "slow", "429"):
        bpjs.fail("acks", kind, times=1, seconds=1 if kind == "slow" else 0)
        page = dest.poll(first.cursor)
        assert len(page.acks) == 10 and not page.more, kind


def test_admin_endpoint_scripts_faults_for_a_service_run_on_its_own(bpjs):
    admin = bpjs.url.replace("/h2h/v1", "/h2h/admin/faults")
    answer = requests.post(admin, json={"kind": "429", "endpoint": "submit", "seconds": 3},
                           timeout=5)  # fmt: skip
    assert answer.json()["faults"]["submit"][0]["kind"] == "429"
    assert requests.post(admin, json={"kind": "explode"}, timeout=5).status_code == 400
    assert requests.delete(admin, timeout=5).json() == {"faults": {}}


def test_the_documented_signature_example_holds():
    from jamsos_bpjs_h2h.signing import signature

    doc = (__import__("pathlib").Path(__file__).parents[2] / "docs/bpjs-h2h.md").read_text()
    value = signature("rahasia", "POST", "/h2h/v1/mutations", "1764681600", b'{"mutations":[]}')
    assert f"the signature is `{value}`" in doc


def test_the_demo_service_knows_the_demo_secret_and_rejects_a_few(tmp_path):
    import jamsos_bpjs_h2h

    settings = jamsos_bpjs_h2h.prepare_demo(instance_path=str(tmp_path))["bpjs-h2h"]
    assert settings["secret"].startswith("$file:")
    assert jamsos_bpjs_h2h.DEMO_SECRET not in str(settings)
    dest = BpjsHostToHost({**settings, "ack_wait": 10})
    unknown = sorted(jamsos_bpjs_h2h.demo_rules().unknown_niks)[0]
    dest.send([mutation(1), mutation(2, nik=unknown)])
    acks = poll_all(dest)
    assert acks[mutation(1).key].outcome == "accepted"
    assert acks[mutation(2).key].reason_code == "nik_unknown"
    assert (tmp_path / "demo" / "bpjs_h2h_loopback.sqlite").exists()


def test_the_service_runs_on_its_own(tmp_path):
    import subprocess
    import sys

    env = {"BPJS_H2H_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jamsos_bpjs_h2h.server", "--port", "0", "--log",
         str(tmp_path / "own.sqlite"), "--unknown-nik", nik(1)],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        dest = BpjsHostToHost({"url": url, "consumer_id": "jamsos", "secret": SECRET,
                               "ack_wait": 10})  # fmt: skip
        dest.send([mutation(1)])
        assert [a.reason_code for a in dest.poll(None).acks] == ["nik_unknown"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bad_content_length_is_refused_not_waited_for(bpjs):
    import socket

    host, port = bpjs.url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /h2h/v1/mutations HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):  # the service closes the connection after answering
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 400") and "body_invalid" in answer


@pytest.mark.parametrize("broken", [
    {"url": ""}, {"url": "ftp://bpjs"}, {"secret": None}, {"secret": "$env:NOT_SET_ANYWHERE"},
    {"secret": "$file:/nonexistent/h2h.secret"}, {"consumer_id": None},
])  # fmt: skip
def test_a_broken_setting_is_a_clear_delivery_error(dest, bpjs, broken):
    dest.settings.update(broken)
    with pytest.raises(DeliveryError) as caught:
        dest.send([mutation(1)])
    assert not caught.value.retryable
    assert "[destinations.bpjs-h2h]" in str(caught.value) and "tidak lengkap" in str(caught.value)
    assert bpjs.requests == []
