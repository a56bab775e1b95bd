"""The delivery core against a counterpart double kept in memory: employers, derivation,
the outbox's states, retries, locks, and what a worker lookup shows. The loopback BPJS
service over real HTTP is tested in tests/integration/test_delivery_h2h*.py."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import DeliveryError
from gateway.delivery.employers import EmployerError
from gateway.delivery.outbox import derive_all
from gateway.store import outbox as outbox_store
from gateway.store.mutations import list_mutations
from tests.helpers.delivery import AGENCY, by_state, employer, roster, row, run
from tests.helpers.roster import worker_row

# -- employers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "says"), [
    ({"npp": "1234567"}, "8 digits"),
    ({"agency": "99.99"}, "Unknown agency"),
    ({"kind": "wadah", "segment": None}, "segment"),
    ({"segment": "SG"}, "wadah only"),
    ({"destination": "nowhere"}, "not registered"),
    ({"division": "00 1"}, "Division code"),
])  # fmt: skip
def test_a_bad_employer_mapping_is_refused_with_the_reason(gw, counterpart, values, says):
    with pytest.raises(EmployerError, match=says):
        employer(gw, **values)


def test_overlapping_work_unit_rules_are_refused(gw, counterpart):
    employer(gw, work_unit="Puskesmas *")
    with pytest.raises(EmployerError, match="overlaps"):
        employer(gw, npp="22222222", work_unit="puskesmas  kota")
    employer(gw, npp="33333333")  # the fallback: every other unit
    with pytest.raises(EmployerError, match="overlaps"):
        employer(gw, npp="44444444")  # a second fallback


# -- derivation -----------------------------------------------------------------------------


def test_deriving_again_gives_the_same_set(gw, counterpart, tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(5)])
    first = derive_all(gw, [AGENCY], "2026-12")[0]
    assert first.added == {"new": 5}
    again = derive_all(gw, [AGENCY], "2027-01")[0]
    assert again.added == {} and again.superseded == 0
    assert {m["month"] for m in list_mutations(gw.engine)} == {"2026-12"}


def test_a_correction_supersedes_the_undelivered_mutation(gw, counterpart, tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(3)])
    run(gw, counterpart)
    roster(gw, tmp_path, [row(0, wage=4_000_000), row(1), row(2)], "r2.csv")
    derive_all(gw, [AGENCY])
    roster(gw, tmp_path, [row(0, wage=4_200_000), row(1), row(2)], "r3.csv")
    result = derive_all(gw, [AGENCY])[0]
    assert result.added == {"wage": 1} and result.superseded == 1
    run(gw, counterpart)
    wages = [m.wage for m in counterpart.seen.values() if m.kind == "wage"]
    assert wages == [4_200_000]  # BPJS hears the last wage only


def test_ended_and_re_enrolled_inside_a_month_nets_out(gw, counterpart, tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(3)])
    run(gw, counterpart)
    roster(gw, tmp_path, [row(0), row(1)], "r2.csv")  # worker 2 ended
    assert derive_all(gw, [AGENCY])[0].added == {"ended": 1}
    roster(gw, tmp_path, [row(i) for i in range(3)], "r3.csv")  # and back, unchanged
    again = derive_all(gw, [AGENCY])[0]
    assert again.added == {} and again.superseded == 1
    run(gw, counterpart)
    assert [m.kind for m in counterpart.seen.values()].count("ended") == 0


def test_an_ending_tells_bpjs_the_end_date_and_reason(gw, counterpart, tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(3)])
    run(gw, counterpart)
    roster(gw, tmp_path, [row(0), row(1)], "r2.csv")
    run(gw, counterpart)
    ended = [m for m in counterpart.seen.values() if m.kind == "ended"]
    assert len(ended) == 1 and ended[0].end_date == date(2026, 12, 2)
    assert ended[0].end_reason == "left_roster" and ended[0].kpj is not None


def test_a_worker_without_an_employer_rule_is_listed_and_nobody_else_waits(gw, counterpart,
                                                                          tmp_path):
    employer(gw, work_unit="Dinas Kesehatan")
    roster(gw, tmp_path, [row(0), row(1), row(2, unit="Satpol PP")])
    result = run(gw, counterpart)
    assert result.counts["accepted"] == 2
    assert [u["work_unit"] for u in result.undeliverable] == ["Satpol PP"]
    assert "no NPP" in result.undeliverable[0]["message_en"]


def test_moving_to_another_employer_ends_there_and_registers_here(gw, counterpart, tmp_path):
    employer(gw, work_unit="Dinas Kesehatan")
    employer(gw, npp="87654321", work_unit="RSUD *")
    roster(gw, tmp_path, [row(0), row(1)])
    run(gw, counterpart)
    roster(gw, tmp_path, [row(0, unit="RSUD Sungai Penuh"), row(1)], "r2.csv")
    run(gw, counterpart)
    moved = [(m.kind, m.employer.npp) for m in counterpart.seen.values()
             if m.nik == worker_row(0)[0]]  # fmt: skip
    assert moved == [("new", "12345678"), ("ended", "12345678"), ("new", "87654321")]
    ended = next(m for m in counterpart.seen.values() if m.kind == "ended")
    assert ended.end_reason == "moved" and ended.end_date is not None  # BPJS needs the day


# -- the outbox -----------------------------------------------------------------------------


def test_kpj_and_rejection_come_back_to_the_worker(gw, counterpart, tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(0), row(1)])
    counterpart.reject = {worker_row(1)[0]}
    result = run(gw, counterpart)
    assert (result.counts["accepted"], result.counts["rejected"]) == (1, 1)
    ok = gw.registry.find_worker(worker_row(0)[0])["enrollments"][0]["bpjs"]
    assert ok["status_id"] == "terdaftar" and ok["kpj"] == "00000000001"
    bad = gw.registry.find_worker(worker_row(1)[0])["enrollments"][0]["bpjs"]
    assert bad["status_id"] == "ditolak" and "Dukcapil" in bad["reason_id"]
    assert run(gw, counterpart).counts.get("sent", 0) == 0  # a rejection is not resent as is


def test_retryable_failures_are_retried_and_bpjs_sees_each_mutation_once(gw, counterpart,
                                                                         tmp_path):
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(4)])
    counterpart.failures = [DeliveryError("503", retryable=True, status=503),
                            DeliveryError("429", retryable=True, retry_after=2, status=429)]
    result = run(gw, counterpart)
    assert result.status == "succeeded" and result.counts["retried"] == 2
    assert len(counterpart.sends) == 1 and by_state(gw) == {"accepted": 4}


def test_a_refused_request_fails_the_delivery_and_the_next_one_sends_the_same_keys(
        gw, counterpart, tmp_path):  # fmt: skip
    employer(gw)
    roster(gw, tmp_path, [row(i) for i in range(3)])
    counterpart.failures = [DeliveryError("bad signature", retryable=False, status=401)]
    failed = run(gw, counterpart)
    assert failed.status == "failed" and "401" in failed.error
    assert outbox_store.get_delivery(gw.engine, failed.delivery_id)["status"] == "failed"
    assert by_state(gw) == {"sent": 3}  # marked before it left: it may have arrived
    keys = {m["key"] for m in list_mutations(gw.engine)}
    assert run(gw, counterpart).status == "succeeded"
    assert set(counterpart.sends[0]) == keys and by_state(gw) == {"accepted": 3}


def test_two_deliveries_for_one_employer_at_once_are_refused(gw, counterpart, tmp_path):
    eid = employer(gw)
    roster(gw, tmp_path, [row(0)])
    other = outbox_store.start_delivery(gw.engine, "double", None, "cli", None, None)
    assert outbox_store.lock_employer(gw.engine, eid, other) is None  # held by a live process
    refused = run(gw, counterpart)
    assert refused.status == "refused" and refused.refused[0]["delivery_id"] == other
    assert counterpart.sends == []
    outbox_store.unlock_employer(gw.engine, eid, other)
    assert run(gw, counterpart).counts["accepted"] == 1


def test_a_lock_left_by_a_killed_process_is_taken_over(gw, counterpart, tmp_path):
    from sqlalchemy import update

    from gateway.store.tables import delivery_locks

    eid = employer(gw)
    roster(gw, tmp_path, [row(0)])
    outbox_store.lock_employer(gw.engine, eid, 999)
    with gw.engine.begin() as conn:  # as if its process had died: a pid that cannot exist
        conn.execute(update(delivery_locks).values(
            owner=outbox_store.process_owner().rsplit("|", 2)[0] + "|4194304|x"))
    assert run(gw, counterpart).counts["accepted"] == 1
