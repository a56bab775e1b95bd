"""The outbox delivering through the host-to-host destination to the loopback BPJS service,
over real HTTP: what a clerk sees (KPJs, rejections with reasons), a failed delivery recorded
and safe to retry, and every fault kind at once, with BPJS's own log as the proof."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from jamsos_bpjs_h2h import BpjsHostToHost
from jamsos_bpjs_h2h.rules import Rules
from jamsos_bpjs_h2h.server import BpjsServer

from gateway.delivery.outbox import deliver
from gateway.store.mutations import list_mutations
from gateway.store.outbox import get_delivery
from tests.helpers.delivery import AGENCY, by_state, employer, roster, row
from tests.helpers.roster import worker_row

SECRET = "outbox-h2h-secret"
WORKERS = 40


@pytest.fixture
def bpjs(tmp_path):
    unknown = worker_row(3)[0]
    rules = Rules(unknown_niks={unknown}, minimum_wages={"15.05": 3_234_533})
    with BpjsServer(tmp_path / "bpjs.sqlite", rules=rules, consumers={"jamsos": SECRET}) as srv:
        yield srv


@pytest.fixture
def registry(gw, tmp_path):
    rows = [row(i, wage=3_000_000 if i == 5 else 3_500_000) for i in range(WORKERS)]
    roster(gw, tmp_path, rows)
    employer(gw, npp="15070955", destination="bpjs-h2h")
    return gw


def destination(bpjs, sleeps: list, **over) -> BpjsHostToHost:
    settings = {"url": bpjs.url, "consumer_id": "jamsos", "secret": SECRET, "timeout": 0.5,
                "http_retries": 2, "http_backoff": 0.01, "batch_size": 10, "page_size": 7,
                "retries": 2, "backoff_base": 0.01, "answer_wait": 10,
                "poll_interval": 0.05} | over  # fmt: skip
    return BpjsHostToHost(settings, sleep=sleeps.append)


def run(gw, dest, sleeps):
    return deliver(gw, "bpjs-h2h", destination=dest, sleep=sleeps.append)


def outbox(gw) -> dict[str, dict]:
    return {m["key"]: m for m in list_mutations(gw.engine, limit=10_000)}


def assert_bpjs_saw_each_once(gw, bpjs):
    bpjs.settle()
    seen = bpjs.ledger.received()
    mine = outbox(gw)
    assert set(seen) == set(mine) and len(seen) == WORKERS
    firsts = Counter(a["idempotency_key"] for a in bpjs.ledger.acks(0, 10_000) if not a["repeat"])
    assert set(firsts.values()) == {1}  # each applied once
    assert {k: m["kpj"] for k, m in mine.items()} == {k: r["kpj"] for k, r in seen.items()}
    return seen


def test_kpjs_and_rejections_reach_the_outbox_with_their_reasons(registry, bpjs):
    sleeps: list = []
    result = run(registry, destination(bpjs, sleeps), sleeps)
    assert result.status == "succeeded", result.error
    assert by_state(registry) == {"accepted": WORKERS - 2, "rejected": 2}
    rejected = {m["reason_code"]: m for m in outbox(registry).values() if m["state"] == "rejected"}
    assert set(rejected) == {"nik_unknown", "wage_below_minimum"}
    assert "Dukcapil" in rejected["nik_unknown"]["reason_id"]
    assert "3.234.533" in rejected["wage_below_minimum"]["reason_en"]
    assert_bpjs_saw_each_once(registry, bpjs)
    again = run(registry, destination(bpjs, sleeps), sleeps)
    assert again.counts.get("sent", 0) == 0  # nothing is sent twice


def test_a_refused_signature_fails_the_delivery_visibly_and_a_retry_completes(registry, bpjs):
    sleeps: list = []
    failed = run(registry, destination(bpjs, sleeps, secret="wrong"), sleeps)
    assert failed.status == "failed" and "signature_invalid" in failed.error
    assert get_delivery(registry.engine, failed.delivery_id)["status"] == "failed"
    assert bpjs.ledger.received() == {} and sleeps == []  # a 401 is never retried
    assert "accepted" not in by_state(registry)
    fixed = run(registry, destination(bpjs, sleeps), sleeps)
    assert fixed.status == "succeeded", fixed.error
    assert by_state(registry) == {"accepted": WORKERS - 2, "rejected": 2}
    assert_bpjs_saw_each_once(registry, bpjs)


def test_every_fault_kind_in_one_delivery_still_reaches_bpjs_once(registry, bpjs):
    sleeps: list = []
    run_faults = [("submit", "drop", 0), ("submit", "slow", 1.0), ("submit", "http500", 0),
                  ("submit", "http503", 0), ("submit", "429", 1), ("acks", "repeat", 0),
                  ("acks", "drop", 0)]  # fmt: skip
    dest = destination(bpjs, sleeps, batch_size=5)  # 8 batches: a fault for each of the first
    original = dest.send

    def send_with_faults(batch):  # a new fault before each batch, in turn
        if run_faults:
            endpoint, kind, seconds = run_faults.pop(0)
            bpjs.fail(endpoint, kind, times=1, seconds=seconds)
        return original(batch)

    dest.send = send_with_faults  # type: ignore[method-assign]
    result = run(registry, dest, sleeps)
    assert result.status == "succeeded", result.error
    assert by_state(registry) == {"accepted": WORKERS - 2, "rejected": 2}
    seen = assert_bpjs_saw_each_once(registry, bpjs)
    assert max(r["times_received"] for r in seen.values()) == 2  # drop and slow: sent again
    assert sorted(bpjs.faults_served) == sorted([
        ("submit", "drop"), ("submit", "slow"), ("submit", "http500"), ("submit", "http503"),
        ("submit", "429"), ("acks", "repeat"), ("acks", "drop")])  # fmt: skip
    assert 1.0 in sleeps  # the 429's Retry-After, honoured


def test_bpjs_down_postpones_the_batch_and_the_next_delivery_sends_it(registry, bpjs):
    sleeps: list = []
    bpjs.fail("submit", "http503", times=1000)
    down = run(registry, destination(bpjs, sleeps), sleeps)
    assert "postponed" in (down.error or "") and down.counts.get("postponed")
    assert bpjs.ledger.received() == {}
    bpjs.heal()
    time.sleep(0.1)  # the postponement (backoff_base 0.01 s) is over
    back = run(registry, destination(bpjs, sleeps), sleeps)
    assert back.status == "succeeded", back.error
    assert by_state(registry) == {"accepted": WORKERS - 2, "rejected": 2}
    assert_bpjs_saw_each_once(registry, bpjs)


def test_the_agency_code_is_the_minimum_wage_region(registry, bpjs):
    sleeps: list = []
    run(registry, destination(bpjs, sleeps), sleeps)
    sent = next(iter(bpjs.ledger.received().values()))["mutation"]
    assert sent["region"] == AGENCY and sent["npp"] == "15070955" and sent["division"] == "001"
