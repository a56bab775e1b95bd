"""Kementerian Kesehatan: the PPNPN roster from SIMPEG over SOAP.

The ministry's HR system lists its non-civil-servant staff (PPNPN) page by page; with a saved
cursor it lists only those changed since (`incremental`). A first or full sync is a snapshot
(staff missing from it are ended); later syncs are incremental. A contract that ended shows
as a status other than AKTIF (the `status` flag): the row is skipped with a warning; in a
full sync that worker is then absent and ended, in an incremental sync the worker is ended by
the next full sync (`jamsos sync kemenkes-ppnpn --full`, weekly).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from gateway import (
    Message,
    Problem,
    RawRow,
    RowResult,
    Severity,
    SoapSource,
    StatusFlag,
    hookimpl,
    make_problem,
)

__version__ = "0.1.0"

# Work units of the ministry's own structure; a row naming another is probably a typo.
KNOWN_UNIT_PREFIXES = (
    "Ditjen",
    "Sekretariat",
    "Inspektorat",
    "BKPK",
    "Badan",
    "RSUP",
    "RS ",
    "KKP",
    "Poltekkes",
    "BBLK",
    "BTKLPP",
)

MESSAGES = {
    "kemenkes_unit_unknown": Message(
        Severity.WARNING,
        "Unit kerja '{unit}' bukan satuan kerja Kemenkes yang dikenal; periksa penulisannya.",
        "Work unit '{unit}' is not a known Kemenkes unit; please check its spelling.",
    ),
}


class KemenkesPPNPN(SoapSource):
    id = "kemenkes-ppnpn"
    agency = "kemenkes"
    title = "SIMPEG Kemenkes: PPNPN (SOAP)"
    wsdl = "simpeg_ppnpn.wsdl"
    operation = "DaftarPPNPN"
    schedule = "0 2 * * *"
    snapshot = True
    incremental = True  # SIMPEG answers "berubahSejak" (changed since)
    status = StatusFlag("status", active=("AKTIF",))  # any other status: the contract ended
    categories = ("ppnpn",)
    page_size = 500
    columns: ClassVar[dict[str, Any]] = {
        "nik": "nik",
        "nama": "name",
        "tanggalLahir": "birth_date",
        "jenisKelamin": "gender",
        "unitKerja": "work_unit",
        "jabatan": "position",
        "honorarium": "wage",
        "tmt": "start_date",
        "status": "status",
    }

    def request(self, page: int, cursor: str | None) -> dict[str, Any]:
        args: dict[str, Any] = {"halaman": page, "ukuranHalaman": self.page_size}
        if cursor is not None:
            args["berubahSejak"] = datetime.fromisoformat(cursor)
        return args

    def items(self, response: Any) -> list[Any]:
        return list(response.pegawai or [])

    def more_pages(self, response: Any, page: int, count: int) -> bool:
        return page < response.jumlahHalaman

    def cursor_after(self, first_response: Any, cursor: str | None) -> str | None:
        return first_response.waktuServer.isoformat()

    def map_row(self, item: Any, row: int) -> dict[str, str | None] | None:
        values = {field: getattr(item, element) for element, field in self.columns.items()}
        values["category"] = "ppnpn"
        return values


@hookimpl
def register_sources() -> list[type[SoapSource]]:
    return [KemenkesPPNPN]


@hookimpl
def validate_record(source: Any, raw: RawRow, result: RowResult) -> list[Problem] | None:
    if source.agency != "kemenkes" or result.record is None:
        return None
    unit = result.record.work_unit
    if unit and not unit.startswith(KNOWN_UNIT_PREFIXES):
        return [make_problem(MESSAGES, "kemenkes_unit_unknown", raw.row, "work_unit", unit=unit)]
    return None


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """Start the demo SIMPEG service on loopback (a daemon thread of this process) with a
    password in a file, the way production reads its secret (`$file:`)."""
    import os
    from pathlib import Path

    from jamsos_kemenkes.server import SimpegServer, demo_employees

    secret = Path(instance_path) / "demo" / "kemenkes_simpeg.secret"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("rahasia-demo\n")
    os.chmod(secret, 0o600)
    server = SimpegServer(demo_employees(1200, error_rate=0.01), password="rahasia-demo").start()
    return {
        "kemenkes-ppnpn": {
            "url": server.url,
            "username": "jamsos",
            "password": f"$file:{secret}",
        }
    }
