"""Agencies: who may feed the gateway and whose workers they are.

An agency is named by a short code: a ministry's acronym (`kemenkes`) or a government's
Kemendagri region code (`15` Provinsi Jambi, `15.05` Kabupaten Muaro Jambi). Region codes come
from the shipped region table, ministries from `data/ministries.csv`.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from importlib.resources import files

from gateway.domain.records import Category
from gateway.domain.regions import get_region


class UnknownAgency(ValueError):
    """The code names no known ministry, province, regency or city."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"unknown agency code {code!r}: use a ministry code (e.g. kemenkes) or a Kemendagri "
            "region code (e.g. 15 for Provinsi Jambi, 15.05 for Kabupaten Muaro Jambi)"
        )
        self.message_id = (
            f"kode instansi {code!r} tidak dikenal: gunakan kode kementerian (mis. kemenkes) "
            "atau kode wilayah Kemendagri (mis. 15 Provinsi Jambi, 15.05 Kabupaten Muaro Jambi)"
        )


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    kind: str  # ministry | province | regency | city
    default_category: Category


@functools.cache
def _ministries() -> dict[str, Agency]:
    text = (files("gateway") / "data" / "ministries.csv").read_text(encoding="utf-8")
    lines = (line for line in io.StringIO(text) if not line.startswith("#"))
    return {
        row["code"]: Agency(row["code"], row["name"], "ministry", Category(row["default_category"]))
        for row in csv.DictReader(lines)
    }


_REGION_CODE = re.compile(r"^\d{2}(\.?\d{2})?$")


def resolve_agency(code: str) -> Agency:
    """The agency behind `code` (case-insensitive; `1505` is read as `15.05`)."""
    clean = code.strip().lower()
    if clean in _ministries():
        return _ministries()[clean]
    if _REGION_CODE.match(clean):
        region = get_region(clean)
        if region is not None:
            # Regional governments roster honorary staff unless a row says otherwise.
            return Agency(region.code, region.name, region.kind, Category.HONORER)
    raise UnknownAgency(code)
