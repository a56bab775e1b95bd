"""SIPP upload files benchmark: writing the workbooks and reading BPJS's answer file.

    .venv/bin/python bench/sipp_files.py                  # 100,000 new workers
    .venv/bin/python bench/sipp_files.py --rows 20000

The plugin alone (plugins/bpjs_sipp), no registry: `--rows` generated mutations of one
employer and month are written as a Tambah TK Massal workbook (the 33-column default layout,
openpyxl write-only mode), then an answer file of the same size (.xlsx and .csv: NIK and KPJ,
one line in 50 rejected) is read and matched back to them. Prints rows per second, the file
sizes and the process's peak RSS after each step (ru_maxrss only grows: read a step's own
peak from the first step it shows); asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jamsos_bpjs_sipp import SippDestination  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from gateway import Employer, OutgoingMutation, make_nik  # noqa: E402

EMPLOYER = Employer(id=1, agency="15.05", kind="npp", npp="12345678", division="001",
                    name="Pemkab Muaro Jambi")  # fmt: skip


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mutations(n: int) -> list[OutgoingMutation]:
    out = []
    for i in range(n):
        born = date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
        out.append(OutgoingMutation(
            key=f"{i:032x}", kind="new", month="2026-12", employer=EMPLOYER,
            nik=make_nik("15.05", born, "L" if i % 2 else "P", serial=1 + i % 9999),
            name=f"Pekerja Nomor {i}", birth_date=born, gender="L" if i % 2 else "P",
            wage=3_000_000 + i % 1000 * 1000, start_date=date(2024, 1, 1),
            category="ppnpn", position="Tenaga Administrasi", work_unit="Dinas Kesehatan",
        ))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    dest = SippDestination()
    batch = mutations(args.rows)
    # make_nik's serial repeats past 9,999 per birth date: keep the first of each NIK.
    batch = list({m.nik: m for m in reversed(batch)}.values())[::-1]
    n = len(batch)
    print(f"{n:,} mutations (distinct NIKs), peak RSS {peak_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        (path,) = dest.write_files(EMPLOYER, "2026-12", batch, folder)
        took = time.perf_counter() - t
        print(f"write Tambah TK Massal: {took:.1f} s, {n / took:,.0f} rows/s, "
              f"{path.stat().st_size / 1e6:.1f} MB, peak RSS {peak_mb():.0f} MB")
        answers_csv = folder / "jawaban.csv"
        with open(answers_csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter=";")
            w.writerow(["NIK", "NO_KPJ", "KETERANGAN"])
            for i, m in enumerate(batch):
                w.writerow([m.nik, "" if i % 50 == 0 else f"26{i:09d}",
                            "NIK tidak ditemukan di Dukcapil" if i % 50 == 0 else ""])
        t = time.perf_counter()
        acks = dest.read_answers(answers_csv, mutations=batch)
        took = time.perf_counter() - t
        print(f"read answers .csv: {took:.1f} s, {len(acks) / took:,.0f} lines/s, "
              f"peak RSS {peak_mb():.0f} MB")
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Hasil")
        ws.append(["NIK", "NO_KPJ", "KETERANGAN"])
        for i, m in enumerate(batch):
            ws.append([m.nik, None if i % 50 == 0 else f"26{i:09d}",
                       "NIK tidak ditemukan di Dukcapil" if i % 50 == 0 else None])
        answers_xlsx = folder / "jawaban.xlsx"
        wb.save(answers_xlsx)
        t = time.perf_counter()
        acks = dest.read_answers(answers_xlsx, mutations=batch)
        took = time.perf_counter() - t
        rejected = sum(a.outcome == "rejected" for a in acks)
        print(f"read answers .xlsx: {took:.1f} s, {len(acks) / took:,.0f} lines/s, "
              f"{rejected:,} rejected, peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
