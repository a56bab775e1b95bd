"""Reconciliation settings: `[reconciliation]` in config/gateway.toml (docs/reconcile.md).

    [reconciliation]
    not_registered_after_days = 30     # a rostered worker BPJS has not registered by then
    holidays = ["2026-08-17", ...]      # public holidays: a due date moves past them
    [reconciliation.late_charge]        # a month's rate per employer kind; absent: none
    npp = 0.02                          # only for employers that owe it: unverified for
                                        # state bodies (docs/domain.md §7), so off by default
    [reconciliation.lapse_after]        # months unpaid after which membership ends
    wadah = 3                           # BPU and pekerja rentan (verified, rulebook)

Weekends are never working days. Fixed-date national holidays are built in; the lunar and
religious ones move every year and must be added from the year's joint ministerial decree
(SKB 3 Menteri): they are not guessed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.config import ConfigError

# New Year, Labour Day, Pancasila Day, Independence Day, Christmas: the same date every year.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (6, 1), (8, 17), (12, 25))


@dataclass(frozen=True)
class ReconcileSettings:
    not_registered_after_days: int = 30
    holidays: tuple[date, ...] = ()
    late_charge: Mapping[str, Decimal] = field(default_factory=dict)  # by employer kind
    lapse_after: Mapping[str, int] = field(default_factory=lambda: {"wadah": 3})

    def holidays_for(self, years: range) -> tuple[date, ...]:
        fixed = tuple(date(y, m, d) for y in years for m, d in FIXED_HOLIDAYS)
        return tuple(sorted(set(fixed) | set(self.holidays)))

    def late_rate(self, kind: str) -> Decimal | None:
        return self.late_charge.get(kind)

    def lapse(self, kind: str) -> int | None:
        return self.lapse_after.get(kind)


def reconcile_settings(config: Mapping[str, Any]) -> ReconcileSettings:
    raw = dict(config.get("RECONCILIATION") or config.get("reconciliation") or {})
    try:
        days = int(raw.get("not_registered_after_days", 30))
        holidays = tuple(date.fromisoformat(str(d)) for d in raw.get("holidays", ()))
        charge = {str(k): Decimal(str(v)) for k, v in dict(raw.get("late_charge", {})).items()
                  if v not in (None, 0, "0", "none")}  # fmt: skip
        lapse = {str(k): int(v) for k, v in
                 dict(raw.get("lapse_after", {"wadah": 3})).items()}  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[reconciliation]: {exc}") from exc
    if days < 0 or any(r < 0 or r > 1 for r in charge.values()) or \
            any(n < 1 for n in lapse.values()):  # fmt: skip
        raise ConfigError("[reconciliation]: days >= 0, late_charge rates 0-1, lapse_after >= 1")
    return ReconcileSettings(days, holidays, charge, lapse)
