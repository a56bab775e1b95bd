"""Applying a budget source (kind "budget"): allocations per government, year and account.

A SIPD-style export lists a government's budget lines; the gateway keeps the ones of the
non-ASN contribution accounts (Permendagri 90/2019: 5.1.02.02.02.0006 JKK, .0007 JKM, .0010
JHT; DOMAIN.md §5), summed per government, fiscal year and account (an export repeats an
account once per sub-activity). Other accounts are part of any full export and are ignored
without a problem. Rows become `budget_allocations` with `source = "apbd"`; for each
government and year the export mentions, its earlier APBD lines are replaced (the export is
that budget's current state). One transaction, one run record, as for rosters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, delete, insert, select, update

from gateway.agencies import UnknownAgency, resolve_agency
from gateway.domain.records import Message, Problem, RawRow, Severity, make_problem
from gateway.pipeline import RosterReport, RowSource, recorded
from gateway.prepare import batched
from gateway.store.apply import problem_row
from gateway.store.db import writing
from gateway.store.registry import Registry
from gateway.store.tables import budget_allocations, problems, runs

# Permendagri 90/2019 object codes of the contributions for non-ASN workers (DOMAIN.md §5).
CONTRIBUTION_ACCOUNTS = {
    "5.1.02.02.02.0006": "jkk",
    "5.1.02.02.02.0007": "jkm",
    "5.1.02.02.02.0010": "jht",
}
BUDGET_FIELDS = ("government", "fiscal_year", "account_code", "amount")
_ACCOUNT = re.compile(r"^\d(\.\d{1,4}){2,5}$")
_AMOUNT = re.compile(r"^(?:rp\.?|idr)?\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2})|,-)?$", re.I)

_E = Severity.ERROR
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
        "Pagu tidak terbaca: tulis Rupiah utuh, positif (mis. 1.250.000.000).",
        "The amount cannot be read: whole positive Rupiah (e.g. 1.250.000.000).",
    ),
}


def parse_amount(text: str) -> int | None:
    """A positive whole-Rupiah budget amount (no monthly cap: budgets run to billions)."""
    match = _AMOUNT.match(text.strip().replace(" ", ""))
    if match is None or (match[2] and int(match[2])):
        return None
    amount = int(match[1].replace(".", ""))
    return amount or None


@dataclass
class BudgetTally:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0  # other accounts of a full export
    sums: dict[tuple[str, int, str], int] = field(default_factory=dict)


def check_budget_row(raw: RawRow, tally: BudgetTally) -> list[Problem]:
    """Validate one budget row and add it to the tally; its problems (none when fine)."""
    get = raw.values.get
    problems: list[Problem] = []

    def problem(code: str, name: str) -> None:
        problems.append(make_problem(MESSAGES, code, raw.row, name))

    government = None
    try:
        agency = resolve_agency(get("government") or "")
        government = agency.code if agency.kind != "ministry" else None
    except UnknownAgency:
        pass
    if government is None:
        problem("government_invalid", "government")
    year_text = (get("fiscal_year") or "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else 0
    if not 2000 <= year <= 2100:
        problem("fiscal_year_invalid", "fiscal_year")
    account = "".join((get("account_code") or "").split())
    if not _ACCOUNT.match(account):
        problem("account_code_invalid", "account_code")
    amount = parse_amount(get("amount") or "")
    if amount is None:
        problem("amount_invalid", "amount")
    tally.rows += 1
    if problems:
        tally.rejected += 1
    elif account not in CONTRIBUTION_ACCOUNTS:
        tally.ignored += 1
        tally.accepted += 1
    else:
        tally.accepted += 1
        key = (government or "", year, account)
        tally.sums[key] = tally.sums.get(key, 0) + (amount or 0)
    return problems


def apply_budget_rows(
    registry: Registry,
    run_id: int,
    open_rows: Callable[[], RowSource],
    *,
    on_success: Callable[[Connection], None] | None = None,
) -> RosterReport:
    """Validate and apply a budget source's rows in one transaction; record the run."""
    tally = BudgetTally()

    def work(report: RosterReport) -> None:
        with open_rows() as reader, writing(registry.engine) as conn:
            report.columns = dict(reader.columns)
            report.unknown_columns = list(reader.unknown_columns)
            registry.set_columns(conn, run_id, report.columns, report.unknown_columns)
            for chunk in batched(iter(reader), 2000):
                found = [(raw, check_budget_row(raw, tally)) for raw in chunk]
                stored = [problem_row(run_id, p) for _, ps in found for p in ps]
                if stored:
                    conn.execute(insert(problems), stored)
                report.add_notices([p for _, ps in found for p in ps])
            notices = reader.notices()
            report.add_notices(notices)
            if notices:
                conn.execute(insert(problems), [problem_row(run_id, p) for p in notices])
            report.rows, report.accepted, report.rejected = (
                tally.rows,
                tally.accepted,
                tally.rejected,
            )
            report.status = "succeeded" if tally.sums else "rejected"
            report.changes = _write(conn, run_id, tally) if tally.sums else _no_changes()
            _finish(conn, run_id, report)
            # Budget syncs are receipted and audited like rosters (in the same transaction).
            report.receipt = registry.seal_run(conn, run_id)
            if on_success is not None and report.status == "succeeded":
                on_success(conn)

    return recorded(registry, run_id, work)


def _no_changes() -> dict[str, int]:
    return {"new": 0, "changed": 0, "unchanged": 0, "ended": 0}


def _write(conn: Connection, run_id: int, tally: BudgetTally) -> dict[str, int]:
    """Replace the APBD lines of every (government, year) the export mentions."""
    t = budget_allocations
    changes = _no_changes()
    now = datetime.now(UTC)
    for government, year in sorted({(g, y) for g, y, _ in tally.sums}):
        scope = and_(t.c.government == government, t.c.fiscal_year == year, t.c.source == "apbd")
        before = dict(conn.execute(select(t.c.account_code, t.c.amount).where(scope)).all())
        after = {a: v for (g, y, a), v in tally.sums.items() if (g, y) == (government, year)}
        for account, amount in after.items():
            if account not in before:
                changes["new"] += 1
            elif before[account] != amount:
                changes["changed"] += 1
            else:
                changes["unchanged"] += 1
        changes["ended"] += len(set(before) - set(after))
        conn.execute(delete(t).where(scope))
        conn.execute(
            insert(t),
            [
                {
                    "government": government,
                    "fiscal_year": year,
                    "account_code": account,
                    "amount": amount,
                    "source": "apbd",
                    "run_id": run_id,
                    "received_at": now,
                }
                for account, amount in sorted(after.items())
            ],
        )
    return changes


def _finish(conn: Connection, run_id: int, report: RosterReport) -> None:
    c = report.changes or _no_changes()
    conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(
            status=report.status,
            finished_at=datetime.now(UTC),
            rows=report.rows,
            accepted=report.accepted,
            rejected=report.rejected,
            warnings=report.warnings,
            **c,
        )
    )
