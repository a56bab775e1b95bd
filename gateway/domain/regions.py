"""Kemendagri's region table: the 38 provinces and 514 regencies/cities.

Codes are Kemendagri's (*kode wilayah*): "PP" for a province, "PP.RR" for a regency (RR 01-69)
or a city (RR 71-99). The data is `gateway/data/regions.csv`, whose header comment names the
source. BPS (statistics office) codes are different and are not used here.

A NIK's first two digits are the province where the person was first registered, not where
they live now (docs/domain.md §3): `is_nik_province` says whether a prefix is a valid province code,
and nothing here maps a NIK to a person's current province.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Literal, cast

RegionKind = Literal["province", "regency", "city"]

_KINDS: frozenset[str] = frozenset({"province", "regency", "city"})


@dataclass(frozen=True, slots=True)
class Region:
    """One row of the region table."""

    code: str  # "15" or "15.05"
    name: str  # as Kemendagri writes it, e.g. "KABUPATEN MUARO JAMBI"
    kind: RegionKind
    province: str  # the province code; a province's own code for a province


@functools.cache
def _table() -> tuple[tuple[Region, ...], dict[str, Region]]:
    # Read once per process: the table is small (552 rows) and never changes at run time.
    text = (resources.files("gateway") / "data" / "regions.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    regions: list[Region] = []
    for row in csv.DictReader(lines):
        kind = row["kind"]
        if kind not in _KINDS:
            raise ValueError(f"regions.csv: unknown kind {kind!r} for {row['code']}")
        regions.append(Region(row["code"], row["name"], cast(RegionKind, kind), row["province"]))
    by_code = {region.code: region for region in regions}
    if len(by_code) != len(regions):
        raise ValueError("regions.csv: duplicate region code")
    return tuple(regions), by_code


def _canonical_code(code: str) -> str:
    """'1505' -> '15.05'; '15.05' and '15' unchanged (after stripping spaces)."""
    code = code.strip()
    if len(code) == 4 and code.isdigit():
        return f"{code[:2]}.{code[2:]}"
    return code


def get_region(code: str) -> Region | None:
    """The region with this code ("15", "15.05" or "1505"), or None when there is none."""
    return _table()[1].get(_canonical_code(code))


def all_regions() -> list[Region]:
    """Every province, regency and city, in code order (each province before its regencies)."""
    return list(_table()[0])


def provinces() -> list[Region]:
    """The 38 provinces, in code order."""
    return [region for region in _table()[0] if region.kind == "province"]


def regencies_and_cities(province: str | None = None) -> list[Region]:
    """Regencies and cities, all of them or those of one province (given by its code)."""
    return [
        region
        for region in _table()[0]
        if region.kind != "province" and (province is None or region.province == province)
    ]


@functools.cache
def _province_codes() -> frozenset[str]:
    return frozenset(region.code for region in _table()[0] if region.kind == "province")


def is_nik_province(prefix: str) -> bool:
    """Whether `prefix` (two digits) is a province code a NIK may start with.

    All of 91-96 are valid: people registered before the 2022 Papua split keep their old
    prefix, so the prefix says where someone was first registered, not their province today.
    """
    return prefix in _province_codes()
