"""Kementerian Desa: the roster of village facilitators (pendamping desa, TPP) as a CSV feed.

The ministry's P3MD system exports its facilitators with its own column names and the
province, regency and district (kecamatan) each is assigned to. The assignment becomes the
work unit ("Kec. Sekernan, Kab. Muaro Jambi, Prov. Jambi") and is checked against the
Kemendagri region table: a facilitator assigned to a regency that does not exist, or not in
the province given, is rejected (the BPJS branch office is chosen by it).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from gateway import (
    CsvSource,
    Message,
    Problem,
    RawRow,
    Region,
    RowResult,
    Severity,
    all_regions,
    get_region,
    hookimpl,
    make_problem,
)

__version__ = "0.1.0"

MESSAGES = {
    "kemendes_regency_unknown": Message(
        Severity.ERROR,
        "Kabupaten/kota penugasan '{name}' tidak dikenal di tabel wilayah Kemendagri.",
        "Regency/city of assignment '{name}' is not in the Kemendagri region table.",
    ),
    "kemendes_regency_province": Message(
        Severity.ERROR,
        "Kabupaten/kota penugasan '{name}' tidak berada di provinsi penugasan '{province}'.",
        "Regency/city of assignment '{name}' is not in the province of assignment '{province}'.",
    ),
    "kemendes_assignment_missing": Message(
        Severity.ERROR,
        "Kabupaten/kota penugasan wajib diisi.",
        "The regency/city of assignment is required.",
    ),
}

_PREFIX = re.compile(r"^(kabupaten|kab\.?|kota|provinsi|prov\.?)\s+", re.IGNORECASE)


def _key(name: str) -> str:
    return " ".join(_PREFIX.sub("", name.strip()).upper().split())


def find_region(text: str, *, provinces: bool) -> Region | None:
    """A region by Kemendagri code ("15.05") or by name ("Kab. Muaro Jambi", "MUARO JAMBI");
    a "Kota"/"Kabupaten" prefix, when given, tells Kota Jambi from a regency of that name."""
    text = text.strip()
    by_code = get_region(text)
    if by_code is not None:
        return by_code
    wanted = _key(text)
    want_city = text.lower().startswith("kota") if _PREFIX.match(text) else None
    for region in all_regions():
        if (region.kind == "province") != provinces or _key(region.name) != wanted:
            continue
        if not provinces and want_city is not None and (region.kind == "city") != want_city:
            continue
        return region
    return None


class KemendesPendamping(CsvSource):
    id = "kemendes-pendamping"
    agency = "kemendes"
    title = "Kemendes P3MD: pendamping desa (CSV)"
    schedule = "0 3 * * 1"
    snapshot = True
    categories = ("pendamping_desa",)
    aliases: ClassVar[dict[str, Any]] = {
        "nik": ("NIK Pendamping",),
        "name": ("Nama Pendamping",),
        "position": ("Posisi", "Jabatan TPP"),
        "wage": ("Honorarium/Bulan", "Honor Bulanan"),
        "start_date": ("TMT Kontrak", "Tanggal Kontrak"),
        "assignment_province": ("Provinsi Penugasan", "Prov Penugasan"),
        "assignment_regency": ("Kabupaten Penugasan", "Kab/Kota Penugasan"),
        "assignment_district": ("Kecamatan Penugasan", "Kec Penugasan"),
    }

    def transform(self, raw: RawRow) -> RawRow:
        v = dict(raw.values)
        parts = [
            f"Kec. {v['assignment_district']}" if v.get("assignment_district") else None,
            v.get("assignment_regency"),
            f"Prov. {v['assignment_province']}" if v.get("assignment_province") else None,
        ]
        v["work_unit"] = ", ".join(p for p in parts if p) or None
        v.setdefault("category", None)
        v["category"] = v["category"] or "pendamping_desa"
        return RawRow(row=raw.row, values=v, numeric_fields=raw.numeric_fields)


@hookimpl
def register_sources() -> list[type[CsvSource]]:
    return [KemendesPendamping]


@hookimpl
def validate_record(source: Any, raw: RawRow, result: RowResult) -> list[Problem] | None:
    if source.agency != "kemendes":
        return None
    regency_text = raw.values.get("assignment_regency")
    if not regency_text:
        if source.id == "upload":
            # An upload (the roster format every agency uploads) has no assignment columns:
            # they are this feed's own. Its work unit is free text; nothing to check here.
            return None
        return [make_problem(MESSAGES, "kemendes_assignment_missing", raw.row, "work_unit")]
    regency = find_region(regency_text, provinces=False)
    if regency is None:
        return [
            make_problem(
                MESSAGES, "kemendes_regency_unknown", raw.row, "work_unit", name=regency_text
            )
        ]
    province_text = raw.values.get("assignment_province")
    province = find_region(province_text, provinces=True) if province_text else None
    if province is not None and regency.province != province.code:
        return [
            make_problem(
                MESSAGES,
                "kemendes_regency_province",
                raw.row,
                "work_unit",
                name=regency_text,
                province=province_text,
            )
        ]
    return None


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """A drop folder holding this month's export (the shipped sample)."""
    import shutil
    from importlib.resources import as_file, files
    from pathlib import Path

    drop = Path(instance_path) / "demo" / "kemendes_drop"
    drop.mkdir(parents=True, exist_ok=True)
    with as_file(files(__package__) / "samples" / "pendamping_desa_2025.csv") as sample:
        target = drop / sample.name
        if not target.exists():
            shutil.copy(sample, target)
    return {"kemendes-pendamping": {"folder": str(drop)}}
