"""The Dukcapil plugin's reading of each answer (protocol.py) and its entry point; over HTTP
against the loopback service: tests/integration/test_verify_dukcapil.py."""

from __future__ import annotations

from datetime import date

import pytest
from jamsos_dukcapil import request_body, verdict_of
from jamsos_dukcapil.protocol import CODES, parse_score

from gateway import Person, VerifierSettings

PERSON = Person(7, "1505014101900001", "Siti Rahayu", date(1990, 1, 1), "P")


def found(**elements: str) -> dict:
    return {"content": [{"RESPONSE_CODE": "01", **elements}]}


def test_the_plugin_is_found_by_its_entry_point():
    from importlib.metadata import entry_points

    (found,) = [ep for ep in entry_points(group="jamsos_gateway") if ep.name == "dukcapil"]
    assert hasattr(found.load(), "verify_identities")


@pytest.mark.parametrize(("text", "read"), [
    ("Sesuai (100)", (True, 100)), ("Tidak Sesuai (59)", (False, 59)),
    (" sesuai(90) ", (True, 90)), ("TIDAK SESUAI (0)", (False, 0)), ("Sesuai", None), ("", None),
])  # fmt: skip
def test_scores_are_read_as_the_service_writes_them(text, read):
    assert parse_score(text) == read


def test_a_match_and_a_mismatch_by_element_and_threshold():
    match = verdict_of(PERSON, found(NIK="Sesuai (100)", NAMA_LGKP="Sesuai (95)",
                                     TGL_LHR="Sesuai (100)", JENIS_KLMIN="Sesuai (100)"), 90)
    assert (match.outcome, match.scores["name"]) == ("match", 95)
    # The gateway's threshold is stricter than the service's word: a mismatch all the same.
    strict = verdict_of(PERSON, found(NIK="Sesuai (100)", NAMA_LGKP="Sesuai (95)"), 96)
    assert (strict.outcome, strict.elements) == ("mismatch", ("name",))
    mismatch = verdict_of(PERSON, found(NIK="Sesuai (100)", NAMA_LGKP="Tidak Sesuai (59)",
                                        TGL_LHR="Tidak Sesuai (0)"), 90)
    assert mismatch.elements == ("name", "birth_date")
    assert mismatch.scores == {"nik": 100, "name": 59, "birth_date": 0}


@pytest.mark.parametrize("code", sorted(set(CODES) - {"01"}))
def test_every_other_code_is_a_verdict_or_a_condition(code):
    verdict = verdict_of(PERSON, {"content": [{"RESPONSE_CODE": code}]}, 90)
    assert verdict.outcome == CODES[code][0] and verdict.code == code
    assert verdict.ref == PERSON.ref


@pytest.mark.parametrize("answer", [{}, {"content": []}, {"content": [{}]}, [],
                                    found(NAMA_LGKP="cocok")])
def test_an_unreadable_answer_is_the_service_unavailable(answer):
    assert verdict_of(PERSON, answer, 90).outcome == "unavailable"


def test_the_request_carries_the_elements_and_resolved_credentials(monkeypatch):
    monkeypatch.setenv("DUKCAPIL_TEST_PW", "rahasia")
    settings = VerifierSettings({"user_id": "jamsos", "password": "$env:DUKCAPIL_TEST_PW",
                                 "caller_ip": "10.1.2.3"}, threshold=85)  # fmt: skip
    body = request_body(PERSON, settings)
    assert body["password"] == "rahasia" and body["ip_user"] == "10.1.2.3"
    assert (body["NIK"], body["NAMA_LGKP"], body["TGL_LHR"], body["JENIS_KLMIN"],
            body["TRESHOLD"]) == (PERSON.nik, "Siti Rahayu", "01-01-1990", "PEREMPUAN", "85")
    assert "rahasia" not in repr(settings)
