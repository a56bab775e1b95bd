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


# The demo governments the export budgets for (gateway/demo/agencies.py, and Kota
# Pangkalpinang of the regional-roster plugin's demo drop folder).
DEMO_GOVERNMENTS = ("15.05", "16", "17", "18.71", "31", "19.71")
SAMPLE_YEAR = "2025"
# Kota Pangkalpinang's 180 honorer (JKK + JKM): not in the 2025 sample, budgeted every year.
PANGKALPINANG = (
    "19.71;Kota Pangkalpinang;{year};4.01.01.2.01.0001;5.1.02.02.02.0006;"
    "Belanja Iuran Jaminan Kecelakaan Kerja bagi Non ASN;30.000.000",
    "19.71;Kota Pangkalpinang;{year};4.01.01.2.01.0001;5.1.02.02.02.0007;"
    "Belanja Iuran Jaminan Kematian bagi Non ASN;40.000.000",
)


def fiscal_year_now() -> int:
    """This year in Western Indonesia Time (UTC+7), the zone of the gateway's clock
    (docs/architecture.md: clock.py): a fiscal year is the calendar year."""
    from datetime import datetime, timedelta, timezone

    return datetime.now(timezone(timedelta(hours=7))).year


def demo_export(sample: str, through: int) -> str:
    """The shipped 2025 export, its demo governments' lines repeated for each later fiscal
    year up to `through` (the demo's rosters have no end: each year owes what 2025 did), and
    Kota Pangkalpinang's lines for every year. The sample's deliberately broken lines (an
    unknown government, a two-digit year) stay in 2025 only."""
    lines = sample.splitlines()
    out = list(lines)
    kept = [line.split(";") for line in lines[1:]]
    kept = [cells for cells in kept if cells[0] in DEMO_GOVERNMENTS and cells[2] == SAMPLE_YEAR]
    for year in range(int(SAMPLE_YEAR), through + 1):
        if year > int(SAMPLE_YEAR):
            out += [";".join([cells[0], cells[1], str(year), *cells[3:]]) for cells in kept]
        out += [line.format(year=year) for line in PANGKALPINANG]
    return "\r\n".join(out) + "\r\n"


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """The shipped export, carried on to the current fiscal year: a demo run in a later year
    shows each government's budget for that year, not "no budget" (issue 21). Written into
    the instance folder; the same year writes the same bytes, so a re-sync changes nothing."""
    from importlib.resources import files
    from pathlib import Path

    sample = (files(__package__) / "samples" / "sipd_apbd_2025.csv").read_text(encoding="utf-8")
    folder = Path(instance_path) / "demo" / "apbd"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sipd_apbd_demo.csv"
    text = demo_export(sample, max(fiscal_year_now(), int(SAMPLE_YEAR)))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8", newline="")
    return {"apbd-sipd": {"path": str(path)}}
