"""Applying BPJS's feeds: membership lists, bills and payments (docs/reconcile.md).

They come through the same machinery as rosters (a plugin's CsvSource with `kind` one of
FEED_KINDS; `jamsos sync`, Airflow, a drop folder) and are validated the same way: every bad
line is a row-numbered problem in Bahasa Indonesia and English. Unlike a roster, **a file
with any bad line applies nothing** (the run is rejected and lists them all): a membership
list with a hole would make covered people look unregistered, and a bill or payment list
with a hole would make a government look in arrears.

- membership list: the employer's state at BPJS; a new list replaces the earlier rows of
  every NPP it covers. Matched to the registry by the NIK's blind index, never by plaintext.
- bills: one per NPP and month; a bill sent again replaces the earlier one.
- payments: one per reference; a reference sent again with the same facts is a repeat, with
  other facts a problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.domain.nik import normalize_nik
from gateway.domain.parsing import read_date, read_rupiah
from gateway.domain.records import Message, Problem, RawRow, Severity, make_problem
from gateway.roster.prepare import batched
from gateway.roster.run import (
    AppliedMeanwhile,
    RosterReport,
    RowReader,
    recorded,
    require_data_rows,
)
from gateway.store import bpjs_feeds as store
from gateway.store.budget import add_problems, finish_run
from gateway.store.db import writing
from gateway.store.registry import Registry

if TYPE_CHECKING:
    from sqlalchemy import Connection

FEED_KINDS = ("bpjs_members", "bpjs_bills", "bpjs_payments")
PROGRAMS = ("jkk", "jkm", "jht", "jp", "jkp")
_NPP = re.compile(r"\d{8}")
_KPJ = re.compile(r"\d{11}")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})|(\d{1,2})[/-](\d{4})")
_E = Severity.ERROR

MESSAGES: dict[str, Message] = {
    "npp_invalid": Message(_E, "NPP harus 8 angka.", "The NPP must be 8 digits."),
    "nik_invalid": Message(_E, "NIK harus 16 angka.", "The NIK must be 16 digits."),
    "kpj_invalid": Message(_E, "Nomor KPJ harus 11 angka.", "The KPJ number must be 11 digits."),
    "member_status_invalid": Message(
        _E, "Status harus aktif atau non-aktif.", "The status must be aktif or non-aktif."),
    "date_invalid": Message(
        _E, "Tanggal tidak terbaca; tulis seperti 31-01-2026.",
        "The date cannot be read; write it like 31-01-2026."),
    "month_invalid": Message(
        _E, "Bulan iuran tidak terbaca; tulis seperti 2026-03 atau 03/2026.",
        "The contribution month cannot be read; write it like 2026-03 or 03/2026."),
    "payment_code_invalid": Message(
        _E, "Kode iuran harus {lengths} angka.", "The payment code must be {lengths} digits."),
    "amount_invalid": Message(
        _E, "Jumlah tidak terbaca: tulis Rupiah utuh, tidak negatif (mis. 1.250.000).",
        "The amount cannot be read: whole Rupiah, not negative (e.g. 1.250.000)."),
    "bill_empty": Message(
        _E, "Tagihan tanpa jumlah: isi jumlah per program atau total.",
        "A bill without an amount: give the amount per program or the total."),
    "reference_missing": Message(
        _E, "Nomor referensi pembayaran kosong.", "The payment reference is empty."),
    "duplicate_line": Message(
        _E, "Baris ini mengulang {what} baris {first}.", "This line repeats the {what} of row "
        "{first}."),
    "payment_conflict": Message(
        _E, "Referensi {reference} sudah tercatat dengan jumlah atau tanggal lain (run {run}).",
        "Reference {reference} is already recorded with another amount or date (run {run})."),
    "file_not_applied": Message(
        _E, "Berkas tidak diterapkan: {rejected} baris bermasalah. Perbaiki lalu kirim ulang "
            "seluruh berkas.",
        "The file was not applied: {rejected} lines have problems. Fix them and send the "
        "whole file again."),
}  # fmt: skip


@dataclass
class FeedTally:
    rows: int = 0
    rejected: int = 0
    good: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[tuple, int] = field(default_factory=dict)


def _text(raw: RawRow, name: str) -> str:
    return (raw.values.get(name) or "").strip()


def _month(text: str) -> str | None:
    found = _MONTH.fullmatch(text.strip())
    if not found:
        return None
    year, number = (found.group(1), found.group(2)) if found.group(1) else \
        (found.group(4), found.group(3))  # fmt: skip
    return f"{int(year):04d}-{int(number):02d}" if 1 <= int(number) <= 12 else None


def _amount(text: str) -> int | None:
    value = read_rupiah(text.replace(" ", "")) if text else None
    return value if isinstance(value, int) and value >= 0 else None


def check_row(kind: str, raw: RawRow, tally: FeedTally, code_lengths: tuple[int, ...],
              keyring: Any) -> list[Problem]:  # fmt: skip
    """Validate one line of a BPJS feed; a good line is added to the tally."""
    problems: list[Problem] = []

    def problem(code: str, name: str | None, **params: object) -> None:
        problems.append(make_problem(MESSAGES, code, raw.row, name, **params))

    good: dict[str, Any] = {}
    if kind in ("bpjs_members", "bpjs_bills"):
        npp = _text(raw, "npp")
        if not _NPP.fullmatch(npp):
            problem("npp_invalid", "npp")
        good["npp"] = npp
    if kind == "bpjs_members":
        nik = normalize_nik(_text(raw, "nik"))
        if not (len(nik) == 16 and nik.isdigit()):
            problem("nik_invalid", "nik")
        kpj = _text(raw, "kpj")
        if not _KPJ.fullmatch(kpj):
            problem("kpj_invalid", "kpj")
        status = _text(raw, "status").lower().replace(" ", "").replace("_", "-")
        status = {"aktif": "aktif", "active": "aktif", "non-aktif": "non-aktif",
                  "nonaktif": "non-aktif", "inactive": "non-aktif"}.get(status, "")  # fmt: skip
        if not status:
            problem("member_status_invalid", "status")
        effective = read_date(_text(raw, "effective_date"))
        if effective is None:
            problem("date_invalid", "effective_date")
        birth = read_date(_text(raw, "birth_date")) if _text(raw, "birth_date") else None
        if _text(raw, "birth_date") and birth is None:
            problem("date_invalid", "birth_date")
        wage = _amount(_text(raw, "wage")) if _text(raw, "wage") else None
        if _text(raw, "wage") and wage is None:
            problem("amount_invalid", "wage")
        if not problems:
            key = (good["npp"], nik)
            if key in tally.seen:
                problem("duplicate_line", "nik", what="NIK", first=tally.seen[key])
            tally.seen.setdefault(key, raw.row)
            good.update(nik_index=keyring.blind_index(nik), nik=nik, kpj=kpj, status=status,
                        name=_text(raw, "name"), effective_date=effective, birth_date=birth,
                        wage=wage)  # fmt: skip
    elif kind == "bpjs_bills":
        month = _month(_text(raw, "month"))
        if month is None:
            problem("month_invalid", "month")
        code = _payment_code(raw, code_lengths, problem)
        amounts: dict[str, int] = {}
        for program in (*PROGRAMS, "total"):
            text = _text(raw, program)
            if text:
                value = _amount(text)
                if value is None:
                    problem("amount_invalid", program)
                else:
                    amounts[program] = value
        total = amounts.pop("total", None)
        if total is None and amounts:
            total = sum(amounts.values())
        if total is None and not any(p.code == "amount_invalid" for p in problems):
            problem("bill_empty", None)
        due = read_date(_text(raw, "due_date")) if _text(raw, "due_date") else None
        if _text(raw, "due_date") and due is None:
            problem("date_invalid", "due_date")
        if not problems:
            key = (good["npp"], month)
            if key in tally.seen:
                problem("duplicate_line", "month", what="NPP dan bulan / NPP and month",
                        first=tally.seen[key])  # fmt: skip
            tally.seen.setdefault(key, raw.row)
            good.update(month=month, payment_code=code, amounts=amounts, total=total,
                        due_date=due)  # fmt: skip
    else:
        reference = _text(raw, "reference")
        if not reference:
            problem("reference_missing", "reference")
        code = _payment_code(raw, code_lengths, problem)
        amount = _amount(_text(raw, "amount"))
        if amount is None:
            problem("amount_invalid", "amount")
        paid_on = read_date(_text(raw, "paid_on"))
        if paid_on is None:
            problem("date_invalid", "paid_on")
        if not problems:
            if reference in tally.seen:
                problem("duplicate_line", "reference", what="referensi / reference",
                        first=tally.seen[reference])  # fmt: skip
            tally.seen.setdefault(reference, raw.row)
            good.update(reference=reference, payment_code=code, amount=amount, paid_on=paid_on)
    tally.rows += 1
    if problems:
        tally.rejected += 1
    else:
        good["row"] = raw.row
        tally.good.append(good)
    return problems


def _payment_code(raw: RawRow, lengths: tuple[int, ...], problem: Callable[..., None]) -> str:
    code = "".join(_text(raw, "payment_code").split())
    if not (code.isdigit() and len(code) in lengths):
        problem("payment_code_invalid", "payment_code",
                lengths=" atau / or ".join(str(n) for n in lengths))  # fmt: skip
    return code


def apply_feed_rows(registry: Registry, run_id: int, open_rows: Callable[[], RowReader], *,
                    kind: str, code_lengths: tuple[int, ...] = (11, 12),
                    on_success: Callable[[Connection], None] | None = None,
                    replay_of: Callable[[Connection], dict | None] | None = None,
                    ) -> RosterReport:  # fmt: skip
    """Validate a BPJS feed and apply it whole, in one transaction, or nothing of it."""
    from gateway.roster.cancel import commit_gate

    tally = FeedTally()

    def work(report: RosterReport) -> None:
        with commit_gate() as gate, open_rows() as reader, writing(registry.engine) as conn:
            store.lock_feed_writes(conn, kind)
            earlier = replay_of(conn) if replay_of is not None else None
            if earlier is not None:
                raise AppliedMeanwhile(earlier)
            report.columns = dict(reader.columns)
            report.unknown_columns = list(reader.unknown_columns)
            registry.set_columns(conn, run_id, report.columns, report.unknown_columns)
            for chunk in batched(iter(reader), 2000):
                found = [p for raw in chunk
                         for p in check_row(kind, raw, tally, code_lengths, registry.keyring)]
                add_problems(conn, run_id, found)
                report.add_notices(found)
            require_data_rows(tally.rows, reader.notices())
            notices = reader.notices()
            changes = {"new": 0, "changed": 0, "unchanged": 0, "ended": 0}
            if tally.rejected == 0 and kind == "bpjs_payments":
                notices += _payment_conflicts(conn, tally)
            if tally.rejected or any(p.severity is _E for p in notices):
                rejected = tally.rejected or len([p for p in notices if p.severity is _E])
                notices.append(make_problem(MESSAGES, "file_not_applied", 1, None,
                                            rejected=rejected))  # fmt: skip
                report.status = "rejected"
            else:
                changes = store.apply(conn, kind, run_id, tally.good, registry.keyring)
                report.status = "succeeded"
            report.add_notices(notices)
            add_problems(conn, run_id, notices)
            report.rows, report.rejected = tally.rows, tally.rejected
            report.accepted = tally.rows - tally.rejected if report.status == "succeeded" else 0
            report.changes = changes
            finish_run(conn, run_id, status=report.status, rows=report.rows,
                       accepted=report.accepted, rejected=report.rejected,
                       warnings=report.warnings, changes=changes)  # fmt: skip
            report.receipt = registry.seal_run(conn, run_id)
            if on_success is not None and report.status == "succeeded":
                on_success(conn)
            gate.close()

    return recorded(registry, run_id, work)


def _payment_conflicts(conn: Connection, tally: FeedTally) -> list[Problem]:
    """A reference already recorded with another amount or date is a problem; the same facts
    again are a repeat (a bank statement sent twice, overlapping)."""
    known = store.payments_by_reference(conn, [g["reference"] for g in tally.good])
    out = []
    for g in tally.good:
        earlier = known.get(g["reference"])
        if earlier and (earlier["amount"], earlier["paid_on"]) != (g["amount"], g["paid_on"]):
            out.append(make_problem(MESSAGES, "payment_conflict", g["row"], "reference",
                                    reference=g["reference"], run=earlier["run_id"]))
    return out

