"""Worker-level differences between the registry and BPJS's membership lists, each with what
to do, and the three coverage figures counted on the same pass (docs/reconcile.md).

| kind | the registry says | BPJS says |
| --- | --- | --- |
| not_registered | active for more than N days | no active membership |
| ended_still_registered | ended | still active under the agency's NPP: still billed |
| other_employer | active, its unit maps to NPP Y | active under NPP X only |
| wage_differs | wage W | reported wage V |
| not_on_roster | nobody of the NPP's agency | active under the NPP |

Matching is by the NIK's blind index (and the birth date where BPJS gives one): no NIK is
compared in clear. Rostered, registered (a KPJ and status aktif) and covered (aktif and the
NPP paid up) are counted per enrolling agency and, each person once, per province.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gateway.clock import aware
from gateway.delivery.employers import EmployerRule, employer_for

KINDS: dict[str, tuple[str, str, str, str]] = {
    # kind: (label id, label en, what to do id, what to do en)
    "not_registered": (
        "Belum terdaftar di BPJS", "Not registered at BPJS",
        "Periksa status pengiriman (ditolak? belum dikirim?) dan kirim ulang setelah diperbaiki.",
        "Check the delivery state (rejected? not sent?) and send again once fixed."),
    "ended_still_registered": (
        "Sudah berakhir, masih aktif di BPJS", "Ended, still active at BPJS",
        "Masih ditagih: kirim non-aktif ke BPJS (jamsos deliver).",
        "Still billed: send the deactivation to BPJS (jamsos deliver)."),
    "other_employer": (
        "Terdaftar di pemberi kerja lain", "Registered under another employer",
        "Pastikan NPP yang benar; minta BPJS memindahkan kepesertaan atau perbaiki unit kerja.",
        "Confirm the right NPP; ask BPJS to move the membership or fix the work unit."),
    "wage_differs": (
        "Upah di BPJS berbeda", "Wage at BPJS differs",
        "Laporkan upah yang benar (Upload Upah) atau perbaiki gaji di daftar.",
        "Report the right wage (Upload Upah) or fix the wage on the roster."),
    "not_on_roster": (
        "Terdaftar di BPJS, tidak ada di daftar", "Registered at BPJS, not on the roster",
        "Tambahkan ke daftar instansi bila masih bekerja; bila tidak, non-aktifkan di BPJS.",
        "Add them to the agency's roster if they still work there; if not, deactivate at BPJS."),
}  # fmt: skip


@dataclass
class Figures:
    rostered: int = 0
    registered: int = 0
    covered: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"rostered": self.rostered, "registered": self.registered,
                "covered": self.covered}  # fmt: skip


@dataclass
class Findings:
    differences: list[dict[str, Any]] = field(default_factory=list)
    agencies: dict[str, Figures] = field(default_factory=dict)
    provinces: dict[str, Figures] = field(default_factory=dict)  # each person once

    def counts(self, agency: str | None = None) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for d in self.differences:
            if agency is None or d["agency"] == agency:
                out[d["kind"]] += 1
        return out


def _difference(kind: str, agency: str | None, npp: str | None, **ids: Any) -> dict[str, Any]:
    label_id, label_en, todo_id, todo_en = KINDS[kind]
    return {"kind": kind, "agency": agency, "npp": npp, "label_id": label_id,
            "label_en": label_en, "action_id": todo_id, "action_en": todo_en, **ids}  # fmt: skip


def compare(enrollments: Any, members: Sequence[dict[str, Any]],
            rules: Sequence[EmployerRule], paid_up: set[str], today: date,
            not_registered_after_days: int) -> Findings:  # fmt: skip
    """One pass over the registry's enrollments (streamed) against the membership rows."""
    found = Findings()
    by_index: dict[str, list[dict]] = {}
    for m in members:
        by_index.setdefault(m["nik_index"], []).append(m)
    agencies_of_npp: dict[str, set[str]] = {}
    rules_of: dict[str, list[EmployerRule]] = {}
    for r in rules:
        agencies_of_npp.setdefault(r.npp, set()).add(r.agency)
        rules_of.setdefault(r.agency, []).append(r)
    matched: set[int] = set()  # member rows some enrollment of their NPP's agency accounts for
    active_at: set[tuple[str, str]] = set()  # (nik_index, agency) with an active enrollment
    ended: list[dict] = []
    seen_in_province: dict[str, set[int]] = {}
    cutoff = today - timedelta(days=not_registered_after_days)
    for e in enrollments:
        index, agency = e["nik_index"], e["agency"]
        same_person = [m for m in by_index.get(index, ())
                       if m["birth_date"] is None or m["birth_date"] == e["birth_date"]]
        for m in same_person:
            if agency in agencies_of_npp.get(m["npp"], ()):
                matched.add(m["id"])
        if e["status"] != "active":
            ended.append({"agency": agency, "nik_index": index, "id": e["id"],
                          "worker_id": e["worker_id"], "members": same_person})  # fmt: skip
            continue
        active_at.add((index, agency))
        aktif = [m for m in same_person if m["status"] == "aktif"]
        if e["start_date"] <= today:
            _count(found, e, aktif, paid_up, seen_in_province)
        ids = {"enrollment_id": e["id"], "worker_id": e["worker_id"]}
        rule = employer_for(rules_of.get(agency, []), agency, e["work_unit"])
        own_npp = rule.npp if isinstance(rule, EmployerRule) else None
        if not aktif:
            since = max(e["start_date"], aware(e["created_at"]).date())  # type: ignore[union-attr]
            if since <= cutoff:
                found.differences.append(_difference(
                    "not_registered", agency, own_npp, days=(today - since).days, **ids))
            continue
        here = [m for m in aktif if own_npp is None or m["npp"] == own_npp]
        if not here:
            matched.update(m["id"] for m in aktif)  # said here, not again as not on a roster
            found.differences.append(_difference(
                "other_employer", agency, own_npp, bpjs_npp=", ".join(sorted(
                    {m["npp"] for m in aktif})), kpj=aktif[0]["kpj"], **ids))  # fmt: skip
            continue
        member = here[0]
        if member["wage"] is not None and member["wage"] != e["wage"]:
            found.differences.append(_difference(
                "wage_differs", agency, member["npp"], wage_roster=e["wage"],
                wage_bpjs=member["wage"], kpj=member["kpj"], **ids))  # fmt: skip
    for e in ended:
        if (e["nik_index"], e["agency"]) in active_at:
            continue  # ended at one agency's old unit, active there again
        for m in e["members"]:
            if m["status"] == "aktif" and e["agency"] in agencies_of_npp.get(m["npp"], ()):
                found.differences.append(_difference(
                    "ended_still_registered", e["agency"], m["npp"], kpj=m["kpj"],
                    enrollment_id=e["id"], worker_id=e["worker_id"]))  # fmt: skip
                break
    for m in members:
        if m["status"] == "aktif" and m["id"] not in matched:
            agencies = sorted(agencies_of_npp.get(m["npp"], ()))
            found.differences.append(_difference(
                "not_on_roster", agencies[0] if agencies else None, m["npp"], kpj=m["kpj"],
                member_id=m["id"]))  # fmt: skip
    return found


def _count(found: Findings, e: dict, aktif: list[dict], paid_up: set[str],
           seen: dict[str, set[int]]) -> None:  # fmt: skip
    agency = e["agency"]
    registered = bool(aktif)
    covered = any(m["npp"] in paid_up for m in aktif)
    figures = found.agencies.setdefault(agency, Figures())
    figures.rostered += 1
    figures.registered += registered
    figures.covered += covered
    if agency[:1].isdigit():
        province = agency[:2]
        people = seen.setdefault(province, set())
        if e["worker_id"] in people:
            return
        people.add(e["worker_id"])
        p = found.provinces.setdefault(province, Figures())
        p.rostered += 1
        p.registered += registered
        p.covered += covered
