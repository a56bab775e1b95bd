"""An alert: something an operator must hear about without visiting the dashboard (issue 20).

The gateway raises them (a feed late past its schedule, a feed still failing after its
retries, a run that ended an unusual share of an agency's workers), Airflow's callbacks raise
them through the same function (`gateway.alerts.raise_alert`), and so will the reconciliation
(a bill that does not match). Plugins deliver them: the `send_alert` hook (e-mail, chat, a
pager). So the shape is general: a `kind` saying what happened, a severity, the agency it
concerns if any, a title in Bahasa Indonesia and in English, and `details`, a flat mapping
of plain values a receiver may show or route on.

Alerts leave the gateway (mail servers, chat services): no NIK may be in one. A 16-digit
number in a title or a detail text is masked here, whoever raised it (an error text may
quote a service's answer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SEVERITIES = ("info", "warning", "error", "critical")
_KIND = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
_NIK_LIKE = re.compile(r"(?<!\d)(\d{4})\d{8}(\d{4})(?!\d)")
Scalar = str | int | float | bool | None

# The kinds the gateway itself raises (others may add theirs: reconciliation, Airflow).
SYNC_FAILED = "sync_failed"  # a feed's sync failed and stayed failed after its retries
FEED_LATE = "feed_late"  # no successful run since the schedule's due time
ENDINGS_UNUSUAL = "endings_unusual"  # a run ended (or would have) over the confirm share


class AlertError(ValueError):
    """An alert that cannot be raised as given (a bug of its raiser)."""


def mask_nik(text: str) -> str:
    """16-digit runs masked as the registry masks stored errors (1505******0001)."""
    return _NIK_LIKE.sub(r"\1********\2", text)


def _plain(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return mask_nik(str(value))[:1000]


@dataclass(frozen=True)
class Alert:
    """One alert. `key` says when two alerts are the same one (a late feed's key names the
    due time it missed), so it is delivered once, not at every check; by default the kind,
    agency and English title."""

    kind: str
    severity: str
    title_id: str
    title_en: str
    agency: str | None = None
    details: Mapping[str, Scalar] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    key: str = ""

    def __post_init__(self) -> None:
        if not _KIND.match(self.kind):
            raise AlertError(f"alert kind must be a lower_snake name, got {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise AlertError(f"alert severity must be one of {SEVERITIES}, got {self.severity!r}")
        if not self.title_id.strip() or not self.title_en.strip():
            raise AlertError("an alert needs a title in Bahasa Indonesia and in English")
        if self.at.tzinfo is None:
            raise AlertError("an alert's time must be timezone-aware")
        set_ = object.__setattr__  # frozen: cleaned once, here
        set_(self, "title_id", mask_nik(self.title_id)[:300])
        set_(self, "title_en", mask_nik(self.title_en)[:300])
        set_(self, "details", {str(k): _plain(v) for k, v in dict(self.details).items()})
        if not self.key:
            set_(self, "key", f"{self.kind}:{self.agency or '-'}:{self.title_en}"[:200])

    @property
    def subject(self) -> str:
        """A one-line subject: severity, then both titles."""
        return f"[{self.severity.upper()}] {self.title_id} / {self.title_en}"

    def text(self) -> str:
        """A plain-text body: the titles, then agency, time and each detail on its line."""
        lines = [self.title_id, self.title_en, ""]
        lines.append(f"Jenis / kind: {self.kind}")
        lines.append(f"Tingkat / severity: {self.severity}")
        if self.agency:
            lines.append(f"Instansi / agency: {self.agency}")
        lines.append(f"Waktu / at: {self.at.isoformat()}")
        lines += [f"{name}: {value}" for name, value in self.details.items()]
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "agency": self.agency,
                "title_id": self.title_id, "title_en": self.title_en,
                "details": dict(self.details), "at": self.at.isoformat(), "key": self.key}


def at_least(severity: str, floor: str) -> bool:
    """Whether `severity` is `floor` or worse."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)


@dataclass(frozen=True)
class AlertSettings:
    """A plugin's `[alerts.<plugin>]` table of config/gateway.toml. `setting(name)` resolves
    a `$env:NAME` / `$file:/path` reference (a password), read when asked, never stored."""

    values: Mapping[str, Any]
    resolve: Callable[[str], Any] = lambda value: value

    def setting(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        return self.resolve(value) if isinstance(value, str) else value

    def __repr__(self) -> str:  # never the secrets
        return f"AlertSettings(keys={sorted(self.values)})"
