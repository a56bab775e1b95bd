"""How BPJS knows each agency as an employer, and which employer a worker belongs to.

An agency maps to one or more employers (docs/domain.md §7, docs/delivery.md):

- one NPP (8 digits) with its SIPP division code for the whole agency (`work_unit` empty);
- one NPP per work unit (OPD / satuan kerja): `work_unit` is the roster's work unit, exactly
  (case and spacing do not matter) or as a pattern with `*` ("Puskesmas *"); an agency may
  keep one rule without a work unit as the fallback for units no other rule takes;
- a collective registration (wadah) for government-paid pekerja rentan, with its segment code:
  SG government, SD village from APBDes, SA village from APBD, SL other village funds.

A worker whose unit no rule takes, or whom two rules take, cannot be delivered: the reason is
listed for the clerk, nothing of theirs is sent, and nothing else is held back.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.delivery.base import Employer
from gateway.domain.agencies import UnknownAgency, resolve_agency

SEGMENTS = {
    "SG": ("Pemerintah", "government"),
    "SD": ("Desa (APBDes)", "village, from APBDes"),
    "SA": ("Desa (APBD)", "village, from APBD"),
    "SL": ("Dana desa lainnya", "other village funds"),
}
_NPP = re.compile(r"\d{8}")
_DIVISION = re.compile(r"[0-9A-Za-z]{1,8}")
_SPACES = re.compile(r"\s+")


class EmployerError(ValueError):
    """An employer mapping that cannot be kept: `message_id` / `message_en` say why."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(f"{message_id} / {message_en}")
        self.message_id = message_id
        self.message_en = message_en


@dataclass(frozen=True)
class EmployerRule(Employer):
    """An Employer with the rule that picks its workers and the destination delivering it."""

    work_unit: str | None = None  # normalised pattern; None: the agency's fallback
    destination: str = ""


@dataclass(frozen=True)
class Undeliverable:
    """Why a worker cannot be delivered (shown to the clerk with what to do)."""

    code: str  # no_employer | no_unit_rule | overlapping_rules
    message_id: str
    message_en: str


def normalise_unit(text: str | None) -> str | None:
    """The form work units are compared in: lower case, single spaces; empty is None."""
    if text is None:
        return None
    clean = _SPACES.sub(" ", text).strip().casefold()
    return clean or None


def check_employer(
    *,
    agency: str,
    kind: str,
    npp: str,
    division: str | None,
    segment: str | None,
    work_unit: str | None,
    destination: str,
    known_destinations: Iterable[str],
    existing: Sequence[EmployerRule] = (),
) -> tuple[str, str | None]:
    """Validate one mapping against the rules above and the agency's other mappings; return
    the agency's canonical code and the normalised work-unit pattern. Raise EmployerError."""
    try:
        code = resolve_agency(agency).code
    except UnknownAgency:
        raise EmployerError(
            f"Instansi {agency!r} tidak dikenal.", f"Unknown agency {agency!r}."
        ) from None
    if kind not in ("npp", "wadah"):
        raise EmployerError(
            f"Jenis {kind!r} tidak dikenal (npp atau wadah).",
            f"Unknown kind {kind!r} (npp or wadah).",
        )
    if not _NPP.fullmatch(npp or ""):
        raise EmployerError(
            f"NPP harus 8 angka, bukan {npp!r}.", f"An NPP is 8 digits, not {npp!r}."
        )
    if division is not None and not _DIVISION.fullmatch(division):
        raise EmployerError(
            f"Kode divisi {division!r} tidak sah (1-8 huruf/angka).",
            f"Division code {division!r} is not valid (1-8 letters or digits).",
        )
    if kind == "wadah" and segment not in SEGMENTS:
        raise EmployerError(
            f"Wadah memerlukan kode segmen ({', '.join(SEGMENTS)}), bukan {segment!r}.",
            f"A wadah needs a segment code ({', '.join(SEGMENTS)}), not {segment!r}.",
        )
    if kind == "npp" and segment is not None:
        raise EmployerError(
            "Kode segmen hanya untuk wadah.", "A segment code belongs to a wadah only."
        )
    known = set(known_destinations)
    if destination not in known:
        listed = ", ".join(sorted(known)) or "-"
        raise EmployerError(
            f"Tujuan {destination!r} tidak terdaftar (terdaftar: {listed}).",
            f"Destination {destination!r} is not registered (registered: {listed}).",
        )
    pattern = normalise_unit(work_unit)
    for other in existing:
        if other.agency != code:
            continue
        if _overlap(pattern, other.work_unit):
            shown = other.work_unit or "(semua unit / every unit)"
            raise EmployerError(
                f"Aturan unit kerja tumpang tindih dengan pemberi kerja #{other.id} "
                f"(NPP {other.npp}, unit {shown}).",
                f"The work-unit rule overlaps employer #{other.id} "
                f"(NPP {other.npp}, unit {shown}).",
            )
    return code, pattern


def _overlap(a: str | None, b: str | None) -> bool:
    """Two rules of one agency overlap when one unit could be taken by both: two fallbacks,
    the same pattern, or a pattern matching the other's literal text."""
    if a is None or b is None:
        return a is None and b is None
    if a == b:
        return True
    return fnmatch.fnmatchcase(b.replace("*", ""), a) or fnmatch.fnmatchcase(a.replace("*", ""), b)


def employer_for(rules: Sequence[EmployerRule], agency: str, work_unit: str | None
                 ) -> EmployerRule | Undeliverable:  # fmt: skip
    """The employer a worker of `agency` in `work_unit` is delivered under."""
    own = [r for r in rules if r.agency == agency]
    if not own:
        return Undeliverable(
            "no_employer",
            "Instansi belum dipetakan ke pemberi kerja BPJS (NPP/wadah). Minta operator "
            "mendaftarkannya: jamsos employers add.",
            "The agency is not mapped to a BPJS employer (NPP/wadah). Ask an operator to "
            "register it: jamsos employers add.",
        )
    unit = normalise_unit(work_unit)
    matched = [r for r in own if r.work_unit is not None and unit is not None
               and fnmatch.fnmatchcase(unit, r.work_unit)]  # fmt: skip
    if len(matched) > 1:
        npps = ", ".join(r.npp for r in matched)
        return Undeliverable(
            "overlapping_rules",
            f"Unit kerja {work_unit!r} cocok dengan beberapa pemberi kerja (NPP {npps}).",
            f"Work unit {work_unit!r} matches several employers (NPP {npps}).",
        )
    if matched:
        return matched[0]
    fallback = [r for r in own if r.work_unit is None]
    if fallback:
        return fallback[0]
    return Undeliverable(
        "no_unit_rule",
        f"Unit kerja {work_unit or '(kosong)'!r} tidak dipetakan ke NPP mana pun; periksa "
        "penulisan unit kerja di daftar atau minta operator menambah aturan.",
        f"Work unit {work_unit or '(empty)'!r} is mapped to no NPP; check how the roster "
        "spells it or ask an operator to add a rule.",
    )


# -- managing the mapping (CLI `jamsos employers`, API /api/v1/employers) ----------------------


def register_employer(gw: Any, *, agency: str, kind: str, npp: str, division: str | None,
                      segment: str | None, work_unit: str | None, destination: str,
                      name: str | None = None, actor: str = "cli") -> EmployerRule:  # fmt: skip
    """Validate and keep one mapping; raise EmployerError saying what is wrong."""
    from gateway.delivery.catalog import destination_ids
    from gateway.store import audit, employers
    from gateway.store.db import writing

    existing = [EmployerRule(**row) for row in employers.list_employers(gw.engine)]
    code, pattern = check_employer(
        agency=agency, kind=kind, npp=npp, division=division, segment=segment,
        work_unit=work_unit, destination=destination,
        known_destinations=destination_ids(gw.plugins), existing=existing,
    )  # fmt: skip
    values = {"agency": code, "kind": kind, "npp": npp, "division": division,
              "segment": segment, "work_unit": pattern, "name": name,
              "destination": destination}  # fmt: skip
    new_id = employers.add_employer(gw.engine, **values)
    with writing(gw.engine) as conn:
        audit.append(conn, actor=actor, action="employer_added", subject=f"employer:{new_id}",
                     details={k: v for k, v in values.items() if v is not None})  # fmt: skip
    return EmployerRule(id=new_id, **values)
