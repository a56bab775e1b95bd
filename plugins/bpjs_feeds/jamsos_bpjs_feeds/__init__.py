"""BPJS Ketenagakerjaan's side as feeds: membership lists, bills (tagihan iuran) and payments.

What BPJS knows comes back to the gateway as files: an employer's membership list (from SIPP
or the branch office), the monthly bill of each employer or wadah, and payments (a bank
statement or BPJS's receipt list). Each is a CSV/XLSX source here, read with configurable
column names as rosters are, and applied whole or not at all (docs/reconcile.md). Point them
at a file, a drop folder or a URL in config/sources.toml:

    [sources.bpjs-kepesertaan]
    folder = "/srv/bpjs/kepesertaan"
    [sources.bpjs-tagihan]
    folder = "/srv/bpjs/tagihan"
    payment_code_lengths = [11, 12]   # kode iuran: 11 digits seen, 12 on one real receipt
    [sources.bpjs-pembayaran]
    folder = "/srv/bank/mutasi"
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway import CsvSource, hookimpl

__version__ = "0.1.0"


class BpjsMembership(CsvSource):
    """An employer's membership list: NIK, KPJ, name, status, since when."""

    id = "bpjs-kepesertaan"
    agency = "bpjs"
    kind = "bpjs_members"
    title = "BPJS: daftar kepesertaan per NPP (CSV/XLSX)"
    schedule = "0 6 * * 1"
    samples = "samples/members"
    required = ("npp", "nik", "kpj", "status", "effective_date")
    aliases: ClassVar[dict[str, Any]] = {
        "npp": ("NPP", "No NPP", "Nomor Pendaftaran Perusahaan"),
        "nik": ("NIK", "No KTP", "Nomor Identitas"),
        "kpj": ("KPJ", "No KPJ", "Nomor Kartu", "Nomor Peserta"),
        "name": ("Nama", "Nama Peserta", "Nama Tenaga Kerja"),
        "birth_date": ("Tanggal Lahir", "Tgl Lahir"),
        "status": ("Status", "Status Kepesertaan"),
        "effective_date": ("Tanggal Efektif", "TMT Kepesertaan", "Tgl Kepesertaan", "Sejak"),
        "wage": ("Upah", "Upah Dilaporkan", "Gaji"),
    }


class BpjsBills(CsvSource):
    """Bills per employer or wadah and month: the payment code and the amount per program."""

    id = "bpjs-tagihan"
    agency = "bpjs"
    kind = "bpjs_bills"
    title = "BPJS: tagihan iuran per NPP dan bulan (CSV/XLSX)"
    schedule = "0 6 5 * *"
    samples = "samples/bills"
    required = ("npp", "month", "payment_code")
    aliases: ClassVar[dict[str, Any]] = {
        "npp": ("NPP", "No NPP", "Kode Wadah"),
        "month": ("Bulan Iuran", "Periode", "Bulan"),
        "payment_code": ("Kode Iuran", "Kode Penetapan Iuran", "Kode Bayar"),
        "jkk": ("JKK", "Iuran JKK"),
        "jkm": ("JKM", "Iuran JKM"),
        "jht": ("JHT", "Iuran JHT"),
        "jp": ("JP", "Iuran JP"),
        "jkp": ("JKP", "Iuran JKP"),
        "total": ("Total", "Jumlah", "Total Iuran"),
        "due_date": ("Jatuh Tempo", "Batas Bayar"),
    }


class BpjsPayments(CsvSource):
    """Payments by payment code: a bank statement or BPJS's receipt list."""

    id = "bpjs-pembayaran"
    agency = "bpjs"
    kind = "bpjs_payments"
    title = "BPJS: pembayaran iuran (CSV/XLSX)"
    schedule = "0 7 * * *"
    samples = "samples/payments"
    required = ("reference", "payment_code", "amount", "paid_on")
    aliases: ClassVar[dict[str, Any]] = {
        "reference": ("Referensi", "No Referensi", "No Transaksi", "NTPN"),
        "payment_code": ("Kode Iuran", "Kode Bayar", "Kode Penetapan Iuran"),
        "amount": ("Jumlah", "Nominal", "Jumlah Bayar"),
        "paid_on": ("Tanggal Bayar", "Tanggal", "Tgl Transaksi"),
    }


@hookimpl
def register_sources() -> list[type[CsvSource]]:
    return [BpjsMembership, BpjsBills, BpjsPayments]
