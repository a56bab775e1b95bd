"""The rules of the loopback BPJS service: reason codes and their words, what a mutation
must hold, and the settings that decide who is rejected (docs/bpjs-h2h.md, "Rejections").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

KINDS = ("new", "wage", "identity", "ended")
SEGMENTS = ("SG", "SD", "SA", "SL", "SC", "SB")  # wadah segment codes, docs/domain.md §7

# reason code -> (Bahasa Indonesia, English); what a clerk reads and acts on.
REASONS: dict[str, tuple[str, str]] = {
    "invalid_mutation": (
        "Mutasi tidak lengkap atau salah format: {detail}.",
        "The mutation is incomplete or malformed: {detail}.",
    ),
    "employer_not_registered": (
        "Pemberi kerja {employer} belum terdaftar di BPJS Ketenagakerjaan; daftarkan dulu "
        "atau perbaiki pemetaan pemberi kerja.",
        "Employer {employer} is not registered with BPJS Ketenagakerjaan; register it or fix "
        "the employer mapping.",
    ),
    "nik_unknown": (
        "NIK tidak ditemukan di data kependudukan (Dukcapil); cocokkan NIK dengan KTP/KK.",
        "The NIK is not in the population registry (Dukcapil); check it against the identity "
        "card or family card.",
    ),
    "month_closed": (
        "Tanggal mulai {start} jatuh pada bulan yang sudah ditutup (s.d. {closed}); "
        "laporkan dengan tanggal mulai di bulan berjalan.",
        "Start date {start} falls in a closed month (through {closed}); report it with a "
        "start date in the current month.",
    ),
    "wage_below_minimum": (
        "Upah Rp {wage} di bawah upah minimum wilayah {region} (Rp {minimum}); perbaiki upah "
        "yang dilaporkan.",
        "Wage Rp {wage} is below the minimum wage for region {region} (Rp {minimum}); correct "
        "the reported wage.",
    ),
    "already_active_elsewhere": (
        "Tenaga kerja masih aktif pada pemberi kerja lain; pemberi kerja itu harus "
        "menonaktifkannya dulu.",
        "The worker is still active under another employer; that employer must end the "
        "membership first.",
    ),
    "not_a_member": (
        "Tenaga kerja tidak terdaftar aktif pada pemberi kerja ini; kirim pendaftaran baru "
        "lebih dulu.",
        "The worker is not an active member under this employer; send a new enrollment first.",
    ),
}


@dataclass
class Rules:
    """What the service is configured to believe; None means "no such restriction"."""

    registered: set[str] | None = None  # NPPs and wadah codes BPJS knows
    unknown_niks: set[str] = field(default_factory=set)  # not in the population registry
    minimum_wages: dict[str, int] = field(default_factory=dict)  # "31" or "31.74" -> Rp/month
    closed_through: str | None = None  # "YYYY-MM": that month and earlier are closed


@dataclass
class Outcome:
    status: str  # accepted | rejected
    kpj: str | None = None
    reason_code: str | None = None
    reason_id: str | None = None
    reason_en: str | None = None


def reject(code: str, **values: Any) -> Outcome:
    text_id, text_en = REASONS[code]
    return Outcome("rejected", None, code, text_id.format(**values), text_en.format(**values))


def employer_label(m: Mapping[str, Any]) -> str:
    if m.get("npp"):
        return f"NPP {m['npp']}" + (f" divisi {m['division']}" if m.get("division") else "")
    return f"wadah {m.get('wadah')} segmen {m.get('segment')}"


_NIK = re.compile(r"\d{16}")
_NPP = re.compile(r"\d{8}")
_REQUIRED = {
    "new": ("nik", "name", "birth_date", "gender", "start_date"),
    "wage": ("nik", "wage"),
    "identity": ("nik",),
    "ended": ("nik", "end_date", "reason"),
}


def invalid(m: Mapping[str, Any]) -> str | None:
    """What is wrong with one mutation's shape (English field names), or None."""
    kind = m.get("kind")
    if kind not in KINDS:
        return f"kind must be one of {', '.join(KINDS)}"
    missing = [name for name in _REQUIRED[kind] if m.get(name) in (None, "")]
    if kind == "new" and m.get("npp") and m.get("wage") in (None, ""):
        missing.append("wage")
    if missing:
        return "missing " + ", ".join(missing)
    if not _NIK.fullmatch(str(m["nik"])):
        return "nik must be 16 digits"
    if m.get("npp"):
        if not _NPP.fullmatch(str(m["npp"])):
            return "npp must be 8 digits"
    elif m.get("wadah"):
        if m.get("segment") not in SEGMENTS:
            return f"segment must be one of {', '.join(SEGMENTS)}"
    else:
        return "npp (with division) or wadah (with segment) is required"
    for name in ("birth_date", "start_date", "end_date"):
        if m.get(name) not in (None, ""):
            try:
                date.fromisoformat(str(m[name]))
            except ValueError:
                return f"{name} must be a date YYYY-MM-DD"
    if m.get("gender") not in (None, "", "L", "P"):
        return "gender must be L or P"
    wage = m.get("wage")
    if wage not in (None, "") and (type(wage) is not int or wage < 0):
        return "wage must be a whole number of rupiah, not negative"
    if kind == "identity" and not any(m.get(n) for n in ("name", "birth_date", "gender")):
        return "an identity correction needs name, birth_date or gender"
    return None
