"""Valid roster rows and files, in the headers and formats a regional government sends."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from gateway.domain.nik import make_nik
from gateway.domain.records import Gender

HEADER = ["NIK", "Nama Lengkap", "Jenis Kelamin", "Tanggal Lahir", "Jabatan", "Gaji", "TMT"]


def worker_row(
    i: int, *, wage: int = 3_500_000, name: str | None = None, region: str = "15.05"
) -> list[str]:
    """A valid roster row for worker number i (distinct NIK per i)."""
    gender = Gender.FEMALE if i % 2 else Gender.MALE
    born = date(1980 + i % 20, 1 + i % 12, 1 + i % 28)
    nik = make_nik(region, born, gender, serial=1 + i)
    return [
        nik,
        name or f"Pekerja Nomor {i}",
        gender.value,
        born.strftime("%d-%m-%Y"),
        "Tenaga Administrasi",
        f"Rp {wage:,}".replace(",", "."),
        "01-01-2024",
    ]


def write_roster(path: Path, rows: Iterable[list[str]], header: list[str] = HEADER) -> Path:
    """A semicolon CSV at `path` with `header` and `rows`; returns `path`."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path
