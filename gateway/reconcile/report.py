"""One reconciliation: BPJS's facts against the registry, as of a day (docs/reconcile.md).

    result = reconciliation(gw, today=clock.today())
    result.findings.differences    # worker-level, each with what to do
    result.findings.agencies       # rostered / registered / covered per enrolling agency
    result.months(npp, year)       # expected, billed, paid per month (billing.py)

An NPP is **paid up** when it has been billed for a month already due and every month due is
paid in full (and, for a wadah, has not lapsed): its active members count as covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.delivery.employers import EmployerRule
from gateway.domain.billing import Ledger
from gateway.reconcile.billing import EmployerMonth, employer_months, ledgers
from gateway.reconcile.differences import Findings, compare
from gateway.reconcile.settings import ReconcileSettings, reconcile_settings
from gateway.store import bpjs_feeds
from gateway.store.employers import list_employers
from gateway.store.reconcile import enrollment_facts


def paid_up(ledger: Ledger, today: date) -> bool:
    due = [m for m in ledger.months if m.due <= today]
    return bool(due) and all(m.outstanding == 0 and not m.lapsed for m in due)


@dataclass
class Reconciliation:
    today: date
    settings: ReconcileSettings
    rules: list[EmployerRule]
    ledgers: dict[str, tuple[Ledger, list]]
    findings: Findings
    paid_up: set[str] = field(default_factory=set)
    engine: Any = None

    def months(self, npp: str, fiscal_year: int) -> list[EmployerMonth]:
        rule = next((r for r in self.rules if r.npp == npp), None)
        if rule is None:
            return []
        return employer_months(self.engine, rule, self.rules, self.settings, fiscal_year,
                               self.today, self.ledgers)  # fmt: skip

    def employer_status(self, npp: str) -> dict[str, Any]:
        """Arrears of one NPP: owed, days overdue of the oldest unpaid month, late charges,
        and a wadah's warning or lapse."""
        ledger = self.ledgers.get(npp, (None, []))[0]
        if ledger is None:
            return {"npp": npp, "billed": False}
        owed = [m for m in ledger.months if m.outstanding and m.due < self.today]
        return {"npp": npp, "billed": True, "paid_up": npp in self.paid_up,
                "owed": sum(m.outstanding for m in owed), "months_owed": len(owed),
                "days_overdue": owed[0].days_overdue(self.today) if owed else 0,
                "late_charges": ledger.late_charges, "credit": ledger.credit,
                "warnings": list(ledger.warnings), "lapsed_from": ledger.lapsed_from}  # fmt: skip


def reconciliation(gw: Any, *, today: date) -> Reconciliation:
    settings = reconcile_settings(gw.config)
    engine = gw.engine
    rules = [EmployerRule(**row) for row in list_employers(engine)]
    found = ledgers(engine, rules, settings, today)
    ok = {npp for npp, (ledger, _) in found.items() if paid_up(ledger, today)}
    findings = compare(enrollment_facts(engine), bpjs_feeds.member_rows(engine), rules, ok,
                       today, settings.not_registered_after_days)  # fmt: skip
    return Reconciliation(today, settings, rules, found, findings, ok, engine)
