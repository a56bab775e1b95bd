"""Verification's SQL on PostgreSQL too (store/verification.py): the verdicts stored, a
run's and an agency's problems with their rows, the counts, the pause, delivery's gate."""

from __future__ import annotations

import pytest
from jamsos_dukcapil.server import DukcapilServer

from gateway.verify.gate import delivery_holds
from gateway.verify.report import agency_verification, compliance_counts, run_verification
from tests.helpers.verify import PASSWORD_ENV, nik_of, population, resident, verification
from tests.integration.test_verify_dukcapil import AGENCY, submit, verify


@pytest.fixture
def backend():
    return "postgresql"


def test_verdicts_rows_counts_and_holds_on_postgresql(gw, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "rahasia-demo")
    with DukcapilServer(population(range(6))) as server:
        server.add(resident(1, name="Rahmat Hidayat"))
        server.set_status(nik_of(2), "deceased")
        server.quota = 5
        report = submit(gw, tmp_path, range(6))
        result = verify(gw, verification(server))
    assert result.stopped == "quota" and result.asked == 5
    body = run_verification(gw.engine, gw.keyring, report.run_id)
    assert [(p["row"], p["outcome"]) for p in body["problems"]] == [(3, "mismatch"),
                                                                    (4, "deceased")]
    assert body["counts"]["pending"] == 1 and body["counts"]["match"] == 3
    page = agency_verification(gw.engine, gw.keyring, AGENCY.code)
    assert {(p["row"], p["run_id"]) for p in page["problems"]} == {(3, report.run_id),
                                                                   (4, report.run_id)}
    (counts,) = compliance_counts(gw.engine)
    assert (counts["agency"], counts["problems"], counts["total"]) == ("15.05", 2, 6)
    ids = [p["worker_id"] for p in body["problems"]]
    with gw.engine.connect() as conn:
        holds = delivery_holds(conn, ids, {"VERIFICATION": {"provider": "dukcapil"}})
    assert {h.outcome for h in holds.values()} == {"mismatch", "deceased"}
