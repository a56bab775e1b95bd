"""APBD: what regional governments budgeted for their non-ASN workers' contributions.

SIPD (Kemendagri's regional government information system) exports a budget as one row per
line: government, fiscal year, sub-activity, account code, description, amount. This source
reads such an export (CSV or XLSX; a file, a drop folder or a URL) into the gateway's budget
allocations, which feed the budget-allocation checks (`jamsos budget check`). Only the
non-ASN contribution accounts are kept (5.1.02.02.02.0006 JKK, .0007 JKM, .0010 JHT); the
rest of the export is ignored. It is not a roster: `kind = "budget"`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway import CsvSource, hookimpl

__version__ = "0.1.0"


class SipdBudget(CsvSource):
    id = "apbd-sipd"
    agency = "kemendagri"  # SIPD is Kemendagri's; each row names its own government
    kind = "budget"
    title = "SIPD: alokasi APBD iuran non-ASN (CSV/XLSX)"
    schedule = "0 5 1 * *"
    required = ("government", "fiscal_year", "account_code", "amount")
    aliases: ClassVar[dict[str, Any]] = {
        "government": ("Kode Pemda", "Kode Wilayah", "Kode Pemerintah Daerah"),
        "government_name": ("Nama Pemda", "Pemerintah Daerah"),
        "fiscal_year": ("Tahun", "Tahun Anggaran", "TA"),
        "account_code": ("Kode Rekening", "Kode Akun", "Kode Rek"),
        "account_name": ("Uraian Rekening", "Nama Rekening", "Uraian"),
        "activity": ("Kode Sub Kegiatan", "Sub Kegiatan"),
        "amount": ("Pagu", "Nilai Anggaran", "Anggaran", "Nilai (Rp)"),
    }


@hookimpl
def register_sources() -> list[type[CsvSource]]:
    return [SipdBudget]


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """The shipped export, read where the package keeps it."""
    from importlib.resources import files

    sample = files(__package__) / "samples" / "sipd_apbd_2025.csv"
    return {"apbd-sipd": {"path": str(sample)}}
