"""A registry with workers to deliver through the bpjs-sipp destination: a real roster
submitted, an employer mapped to the destination, mutations derived by the outbox, and BPJS
answer files as SIPP gives them back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from gateway.delivery.catalog import make_destination
from gateway.delivery.employers import register_employer
from gateway.delivery.outbox import deliver
from gateway.domain.agencies import resolve_agency
from gateway.roster.endings import NO_LIMIT
from gateway.roster.submit import submit_roster
from gateway.store.tables import mutations
from tests.helpers.roster import HEADER, worker_row, write_roster

AGENCY = "15.05"
TODAY = date(2026, 12, 2)


def submit(gw: Any, tmp_path: Path, rows: list[list[str]], name: str = "roster") -> None:
    path = write_roster(tmp_path / f"{name}.csv", rows, [*HEADER, "Unit Kerja"])
    report = submit_roster(gw.registry, path, agency=resolve_agency(AGENCY), today=TODAY,
                           trigger="test", endings=NO_LIMIT)  # fmt: skip
    assert report.status == "succeeded", report.problems


def roster(numbers: Any, **kw: Any) -> list[list[str]]:
    return [[*worker_row(i, **kw), "Dinas Kesehatan"] for i in numbers]


def nik_of(i: int) -> str:
    return worker_row(i)[0]


def add_employer(gw: Any, npp: str = "12345678", division: str = "001") -> int:
    gw.ensure_ready()
    return register_employer(gw, agency=AGENCY, kind="npp", npp=npp, division=division,
                             segment=None, work_unit=None, destination="bpjs-sipp").id  # fmt: skip


def sipp(gw: Any, **settings: Any) -> Any:
    return make_destination(gw.plugins, "bpjs-sipp", {"bpjs-sipp": settings})


def run(gw: Any, dest: Any = None) -> Any:
    """`jamsos deliver bpjs-sipp`: derive the mutations, prepare the batches."""
    result = deliver(gw, "bpjs-sipp", destination=dest or sipp(gw), answer_wait=0,
                     sleep=lambda s: None)  # fmt: skip
    assert result.status == "succeeded", result.error
    return result


def mutation_rows(gw: Any) -> list[dict]:
    with gw.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(mutations).order_by(mutations.c.id))
                .mappings()]  # fmt: skip


def answer_xlsx(path: Path, rows: list[list], header: tuple = ("NIK", "KPJ", "KETERANGAN")
                ) -> Path:  # fmt: skip
    """An answer workbook as SIPP exports it: a title row, the header, one line per worker."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Hasil Tambah TK Massal"])
    ws.append(list(header))
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
