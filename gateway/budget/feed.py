"""Applying a budget source (kind "budget"): allocations per government, year and account.

A SIPD-style export lists a government's budget lines; the gateway keeps the ones of the
non-ASN contribution accounts (Permendagri 90/2019: 5.1.02.02.02.0006 JKK, .0007 JKM, .0010
JHT; docs/domain.md §5), summed per government, fiscal year and account (an export repeats an
account once per sub-activity). Other accounts are part of any full export and are ignored
without a problem. Rows become `budget_allocations` with `source = "apbd"`; for each
government and year the export mentions (by any line), its earlier APBD lines are replaced:
the export is that budget's current state, so contribution lines dropped by a revision
(APBD-P) are dropped here too. One transaction, one run record, as for rosters.

A sum with a line missing is not the budget: when a line of a government and year cannot be
read (and may be one of its contribution lines), or repeats a sub-activity's account, that
government's allocations for that year are kept as they were, with a warning (every year of
it when the line's year cannot be read). A line whose government code is unknown belongs to
no budget the gateway knows: it is rejected, and the others apply. An export with no
contribution line at all is refused (a wrong export, not every government budgeting nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.domain.parsing import read_rupiah
from gateway.domain.records import Message, Problem, RawRow, Severity, make_problem
from gateway.roster.cancel import commit_gate
from gateway.roster.prepare import batched
from gateway.roster.run import (
    AppliedMeanwhile,
    RosterReport,
    RowReader,
    recorded,
    require_data_rows,
)
from gateway.store.budget import (
    add_problems,
    apbd_lines,
    finish_run,
    lock_apbd_writes,
    replace_apbd_lines,
)
from gateway.store.db import writing
from gateway.store.registry import Registry

if TYPE_CHECKING:
    from sqlalchemy import Connection

# Permendagri 90/2019 object codes of the contributions for non-ASN workers (docs/domain.md §5).
CONTRIBUTION_ACCOUNTS = {
    "5.1.02.02.02.0006": "jkk",
    "5.1.02.02.02.0007": "jkm",
    "5.1.02.02.02.0010": "jht",
}
_ACCOUNT = re.compile(r"^\d(\.\d{1,4}){2,5}$")
_E = Severity.ERROR
_W = Severity.WARNING
MESSAGES: dict[str, Message] = {
    "government_invalid": Message(
        _E,
        "Kode pemerintah daerah tidak dikenal; gunakan kode wilayah Kemendagri (mis. 15.05).",
        "Unknown government code; use a Kemendagri region code (e.g. 15.05).",
    ),
    "fiscal_year_invalid": Message(
        _E,
        "Tahun anggaran harus empat angka antara 2000 dan 2100.",
        "The fiscal year must be four digits between 2000 and 2100.",
    ),
    "account_code_invalid": Message(
        _E,
        "Kode rekening tidak terbaca; tulis seperti 5.1.02.02.02.0006.",
        "The account code cannot be read; write it like 5.1.02.02.02.0006.",
    ),
    "amount_invalid": Message(
        _E,
        "Pagu tidak terbaca: tulis Rupiah utuh, tidak negatif (mis. 1.250.000.000 atau "
        "1,250,000,000.00).",
        "The amount cannot be read: whole Rupiah, not negative (e.g. 1.250.000.000 or "
        "1,250,000,000.00).",
    ),
    "budget_line_duplicate": Message(
        _E,
        "Baris ini mengulang rekening yang sama pada sub kegiatan yang sama (baris {first}); "
        "dijumlahkan, anggarannya akan tercatat dua kali.",
        "This line repeats the same account of the same sub-activity (row {first}); summed, "
        "the budget would be counted twice.",
    ),
    "budget_kept": Message(
        _W,
        "Alokasi {government} tahun {year} tidak diubah: {rejected} barisnya ditolak, dan "
        "jumlah tanpa baris itu bukan anggarannya. Perbaiki baris itu lalu kirim ulang.",
        "The {government} allocations for {year} were kept as they were: {rejected} of its "
        "lines were rejected, and a sum without them is not its budget. Fix them and send "
        "the export again.",
    ),
    "budget_removed": Message(
        _W,
        "Ekspor ini tidak lagi memuat rekening iuran non-ASN {government} tahun {year}: "
        "alokasi APBD-nya dihapus.",
        "This export no longer lists non-ASN contribution accounts for {government} in "
        "{year}: its APBD allocations were removed.",
    ),
    "no_contribution_lines": Message(
        _E,
        "Ekspor ini tidak memuat satu pun rekening iuran non-ASN (5.1.02.02.02.0006, .0007, "
        ".0010): tidak ada yang diubah. Periksa apakah ekspornya benar.",
        "This export lists no non-ASN contribution account at all (5.1.02.02.02.0006, .0007, "
        ".0010): nothing was changed. Check that it is the right export.",
    ),
}


def parse_amount(text: str) -> int | None:
    """A whole-Rupiah budget amount, zero included (no monthly cap: budgets run to billions),
    written as a roster's money may be (1.250.000.000, 1,250,000,000.00, Rp 1.250.000.000,-)."""
    amount = read_rupiah(text.replace(" ", ""))
    return amount if isinstance(amount, int) else None


Scope = tuple[str, int]  # (government, fiscal year)


@dataclass
class BudgetTally:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0  # other accounts of a full export
    sums: dict[tuple[str, int, str], int] = field(default_factory=dict)
    mentioned: set[Scope] = field(default_factory=set)  # by any readable line
    blocked: dict[Scope, int] = field(default_factory=dict)  # rejected lines per scope
    # rejected lines of a known government whose year cannot be read: every year of it
    blocked_governments: dict[str, int] = field(default_factory=dict)
    seen: dict[tuple[str, int, str, str], int] = field(default_factory=dict)  # -> first row


def check_budget_row(raw: RawRow, tally: BudgetTally) -> list[Problem]:
    """Validate one budget row and add it to the tally; its problems (none when fine)."""
    get = raw.values.get
    problems: list[Problem] = []

    def problem(code: str, name: str | None, **params: object) -> None:
        problems.append(make_problem(MESSAGES, code, raw.row, name, **params))

    government = None
    try:
        agency = resolve_agency(get("government") or "")
        government = agency.code if agency.kind != "ministry" else None
    except UnknownAgency:
        pass
    if government is None:
        problem("government_invalid", "government")
    year_text = (get("fiscal_year") or "").strip()
    if year_text.endswith(".0"):  # a numeric spreadsheet cell
        year_text = year_text[:-2]
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else 0
    if not 2000 <= year <= 2100:
        problem("fiscal_year_invalid", "fiscal_year")
    account = "".join((get("account_code") or "").split())
    readable_account = bool(_ACCOUNT.match(account))
    if not readable_account:
        problem("account_code_invalid", "account_code")
    contribution = account in CONTRIBUTION_ACCOUNTS
    amount = None
    if contribution or not readable_account:  # other accounts' amounts are not ours to judge
        amount = parse_amount(get("amount") or "")
        if amount is None:
            problem("amount_invalid", "amount")
    scope = (government, year) if government is not None and 2000 <= year <= 2100 else None
    if contribution and scope is not None and not problems:
        line = (*scope, "".join((get("activity") or "").split()), account)
        if line in tally.seen:
            problem("budget_line_duplicate", None, first=tally.seen[line])
        else:
            tally.seen[line] = raw.row
    tally.rows += 1
    if scope is not None:
        tally.mentioned.add(scope)
    if problems:
        tally.rejected += 1
        if scope is not None:
            tally.blocked[scope] = tally.blocked.get(scope, 0) + 1
        elif government is not None:
            blocked = tally.blocked_governments
            blocked[government] = blocked.get(government, 0) + 1
    else:
        tally.accepted += 1
        if contribution:
            key = (*scope, account)  # type: ignore[misc]
            tally.sums[key] = tally.sums.get(key, 0) + (amount or 0)
        else:
            tally.ignored += 1
    return problems


def apply_budget_rows(
    registry: Registry,
    run_id: int,
    open_rows: Callable[[], RowReader],
    *,
    on_success: Callable[[Connection], None] | None = None,
    replay_of: Callable[[Connection], dict | None] | None = None,
) -> RosterReport:
    """Validate and apply a budget source's rows in one transaction; record the run.

    As for a roster (`roster/run.py` `apply_rows`): the APBD writers' lock is taken first, so
    concurrent syncs of an export apply one after the other, and `replay_of(conn)` is asked
    under it: a sync whose input another applied meanwhile is discarded and answered with
    that run's report (`replayed`), instead of applying the export twice. Before the lock,
    three `jamsos sync apbd-sipd` at once on PostgreSQL each replaced the same lines and two
    failed on the unique index (issue 20)."""
    tally = BudgetTally()

    def work(report: RosterReport) -> None:
        with commit_gate() as gate, open_rows() as reader, writing(registry.engine) as conn:
            lock_apbd_writes(conn)
            earlier = replay_of(conn) if replay_of is not None else None
            if earlier is not None:
                raise AppliedMeanwhile(earlier)
            report.columns = dict(reader.columns)
            report.unknown_columns = list(reader.unknown_columns)
            registry.set_columns(conn, run_id, report.columns, report.unknown_columns)
            for chunk in batched(iter(reader), 2000):
                found = [(raw, check_budget_row(raw, tally)) for raw in chunk]
                add_problems(conn, run_id, [p for _, ps in found for p in ps])
                report.add_notices([p for _, ps in found for p in ps])
            require_data_rows(tally.rows, reader.notices())  # a header alone: as for a roster
            notices = reader.notices()
            if not (tally.sums or tally.blocked or tally.blocked_governments):
                notices.append(make_problem(MESSAGES, "no_contribution_lines", 1, None))
            report.rows, report.accepted, report.rejected = (
                tally.rows,
                tally.accepted,
                tally.rejected,
            )
            changes, said = _write(conn, run_id, tally)
            notices += said
            report.add_notices(notices)
            add_problems(conn, run_id, notices)
            applied = any(changes.values())
            report.status = "succeeded" if applied else "rejected"
            report.changes = changes
            finish_run(conn, run_id, status=report.status, rows=report.rows,
                       accepted=report.accepted, rejected=report.rejected,
                       warnings=report.warnings, changes=changes)
            # Budget syncs are receipted and audited like rosters (in the same transaction).
            report.receipt = registry.seal_run(conn, run_id)
            if on_success is not None and report.status == "succeeded":
                on_success(conn)
            gate.close()  # a SIGTERM from here on waits for the commit (roster/cancel.py)

    return recorded(registry, run_id, work)


def _no_changes() -> dict[str, int]:
    return {"new": 0, "changed": 0, "unchanged": 0, "ended": 0}


def _write(
    conn: Connection, run_id: int, tally: BudgetTally
) -> tuple[dict[str, int], list[Problem]]:
    """Replace the APBD lines of every (government, year) the export mentions, except those
    with a rejected line (kept as they were); the changes, and the warnings to give."""
    changes = _no_changes()
    said: list[Problem] = []
    if not (tally.sums or tally.blocked or tally.blocked_governments):
        return changes, said  # no contribution line at all: a wrong export, refused
    now = datetime.now(UTC)
    for government, year in sorted(tally.mentioned):
        rejected = tally.blocked.get((government, year), 0)
        rejected += tally.blocked_governments.get(government, 0)
        if rejected:
            said.append(make_problem(MESSAGES, "budget_kept", 1, None, government=government,
                                     year=year, rejected=rejected))  # fmt: skip
            continue
        before = apbd_lines(conn, government, year)
        after = {a: v for (g, y, a), v in tally.sums.items() if (g, y) == (government, year)}
        if not after and not before:
            continue  # salary lines of a government that never budgeted contributions
        for account, amount in after.items():
            if account not in before:
                changes["new"] += 1
            elif before[account] != amount:
                changes["changed"] += 1
            else:
                changes["unchanged"] += 1
        changes["ended"] += len(set(before) - set(after))
        if before and not after:
            said.append(make_problem(MESSAGES, "budget_removed", 1, None,
                                     government=government, year=year))  # fmt: skip
        replace_apbd_lines(conn, government, year, after, run_id=run_id, received_at=now)
    return changes, said
