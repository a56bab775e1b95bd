"""Dukcapil: identity verification by element against the population registry.

Institutions with a cooperation agreement (PKS) with Dukcapil call its element-verification
service on a private network (docs/domain.md §7, docs/verification.md). This plugin speaks
that JSON over HTTP (protocol.py), one request per person, and maps each answer code to a
verdict or to a condition of the service. Settings, in config/gateway.toml:

    [verification]
    provider = "dukcapil"
    threshold = 90

    [verification.dukcapil]
    url = "https://10.0.0.10/dukcapil/get_json/VERIFY_BY_ELEMEN"
    user_id = "$env:DUKCAPIL_USER"
    password = "$file:/run/secrets/dukcapil_password"
    caller_ip = "10.1.2.3"       # the address registered with Dukcapil (ip_user)
    timeout = 10                 # seconds per request
    verify_tls = true            # or a CA bundle path for the private network's CA

`jamsos_dukcapil.server` is a loopback stand-in with a generated population for the demo
and the tests; it answers each code, a daily quota, access hours, slowness and drops.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from gateway import Person, Verdict, VerifierSettings, hookimpl
from jamsos_dukcapil.protocol import CODES, FIELDS, GENDERS, parse_score

__version__ = "0.1.0"

log = logging.getLogger(__name__)
STOPPING = ("quota", "outside_hours", "refused", "unavailable")  # the rest are not asked


def request_body(person: Person, settings: VerifierSettings) -> dict[str, str]:
    return {
        "user_id": settings.setting("user_id") or "",
        "password": settings.setting("password") or "",
        "ip_user": settings.setting("caller_ip") or "",
        "TRESHOLD": str(settings.threshold),
        "NIK": person.nik,
        "NAMA_LGKP": person.name,
        "TGL_LHR": person.birth_date.strftime("%d-%m-%Y"),
        "TMPT_LHR": person.birth_place or "",
        "JENIS_KLMIN": GENDERS.get(person.gender, ""),
        "ALAMAT": "",
        "NO_KK": "",
    }


def verdict_of(person: Person, answer: Any, threshold: int) -> Verdict:
    """One answer document -> a Verdict (a malformed one: the service is unavailable)."""
    try:
        content = answer["content"][0]
        code = str(content["RESPONSE_CODE"]).zfill(2)
    except (KeyError, IndexError, TypeError):
        return Verdict(person.ref, "unavailable", detail="malformed answer")
    kind, text = CODES.get(code, ("unavailable", "unknown code"))
    if kind != "found":
        return Verdict(person.ref, kind, code=code, detail=text)
    scores: dict[str, int] = {}
    below: list[str] = []
    for element, name in FIELDS.items():
        if name not in content:
            continue
        parsed = parse_score(content[name])
        if parsed is None:
            return Verdict(person.ref, "unavailable", code=code, detail=f"unreadable {name}")
        agrees, score = parsed
        scores[element] = score
        if not agrees or score < threshold:
            below.append(element)
    if below:
        return Verdict(person.ref, "mismatch", scores, tuple(below), code=code)
    return Verdict(person.ref, "match", scores, code=code)


@hookimpl
def verify_identities(people: list[Person], settings: VerifierSettings) -> list[Verdict]:
    url = settings.setting("url")
    if not url:
        return [Verdict(p.ref, "refused", detail="no url configured") for p in people]
    timeout = float(settings.setting("timeout", 10))
    verify_tls = settings.setting("verify_tls", True)
    answers: list[Verdict] = []
    stop: Verdict | None = None
    with requests.Session() as session:
        for person in people:
            if stop is not None:  # quota, hours, access or a dead service: do not call again
                answers.append(Verdict(person.ref, stop.outcome, code=stop.code,
                                       detail=stop.detail))  # fmt: skip
                continue
            answer = _ask(session, url, request_body(person, settings), timeout, verify_tls)
            verdict = (verdict_of(person, answer, settings.threshold)
                       if not isinstance(answer, Verdict) else
                       Verdict(person.ref, answer.outcome, detail=answer.detail))  # fmt: skip
            if verdict.outcome in STOPPING:
                stop = verdict
            answers.append(verdict)
    return answers


def _ask(session: requests.Session, url: str, body: dict[str, str], timeout: float,
         verify_tls: Any) -> Any:  # fmt: skip
    """The answer document, or a Verdict (ref 0) for a transport failure: one retry after a
    dropped connection or a timeout, then the service is unavailable. Errors never carry
    the body (it holds a NIK and a name)."""
    for attempt in (1, 2):
        try:
            response = session.post(url, json=body, timeout=timeout, verify=verify_tls)
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:  # fmt: skip
            if attempt == 2:
                return Verdict(0, "unavailable", detail=type(exc).__name__)
            continue
        except requests.RequestException as exc:
            return Verdict(0, "unavailable", detail=type(exc).__name__)
        if response.status_code >= 500 or response.status_code == 429:
            return Verdict(0, "unavailable", detail=f"HTTP {response.status_code}")
        if response.status_code in (401, 403):
            return Verdict(0, "refused", detail=f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            return Verdict(0, "unavailable", detail="not JSON")
    return Verdict(0, "unavailable")  # pragma: no cover

