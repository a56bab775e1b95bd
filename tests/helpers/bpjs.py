"""BPJS-side files as BPJS gives them (membership lists, bills, payments), generated for the
reconciliation tests, and syncing them through the bpjs_feeds plugin's real sources."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from gateway.roster.sync import sync_source
from gateway.sources.loader import source_catalog

NPP, OTHER = "12345678", "22222222"  # Muaro Jambi's and Batang Hari's in the tests


def nik(i: int) -> str:
    """The NIK of roster worker number i (tests/helpers/roster.py)."""
    from tests.helpers.roster import worker_row

    return worker_row(i)[0]


MEMBERS = ["NPP", "NIK", "KPJ", "Nama", "Tanggal Lahir", "Status", "TMT Kepesertaan", "Upah"]
BILLS = ["NPP", "Bulan Iuran", "Kode Iuran", "JKK", "JKM", "Total", "Jatuh Tempo"]
PAYMENTS = ["Referensi", "Kode Iuran", "Jumlah", "Tanggal Bayar"]


def rupiah(n: int | None) -> str:
    return "" if n is None else f"{n:,}".replace(",", ".")


def member(npp: str, nik: str, kpj: str, *, status: str = "aktif", wage: int | None = None,
           since: date = date(2026, 1, 1), name: str = "Peserta") -> list[str]:  # fmt: skip
    return [npp, nik, kpj, name, "", status, since.strftime("%d-%m-%Y"), rupiah(wage)]


def bill(npp: str, month: str, code: str, jkk: int, jkm: int) -> list[str]:
    return [npp, month, code, rupiah(jkk), rupiah(jkm), rupiah(jkk + jkm), ""]


def payment(reference: str, code: str, amount: int, paid_on: date) -> list[str]:
    return [reference, code, rupiah(amount), paid_on.strftime("%d-%m-%Y")]


def write(path: Path, header: list[str], rows: Iterable[list[str]]) -> Path:
    lines = [";".join(header), *(";".join(r) for r in rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def sync_file(gw: Any, source_id: str, path: Path, today: date = date(2026, 5, 20)) -> Any:
    """Sync one file through the plugin's source, as `jamsos sync` would."""
    source = source_catalog(gw.plugins, {source_id: {"path": str(path)}})[source_id].create()
    return sync_source(gw.registry, gw.plugins, source, today=today, trigger="test")
