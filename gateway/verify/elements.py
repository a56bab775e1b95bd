"""What a verification plugin is given and returns (the `verify_identities` hook).

Plain values, no I/O: a `Person` is the elements of one worker as the registry holds them
(decrypted only for the call), a `Verdict` what the population registry said about them. The
gateway re-exports these names (`from gateway import Person, Verdict, VerifierSettings`), so a
plugin imports nothing else. docs/verification.md explains each outcome to a clerk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.config import resolve_secret

# What the registry said about a person: the person's own answer, stored per worker.
MATCH = "match"
VERDICTS = (
    MATCH,
    "mismatch",  # found, but some elements score below the threshold (`scores`, `elements`)
    "not_found",  # no record under this NIK (codes 13, 15)
    "deceased",  # the record says the person died (code 11)
    "inactive",  # the record is inactive (code 14)
    "several",  # several records under this NIK (code 12)
    "unprocessable",  # the service could not process this person's request (codes 07, 08)
)
# Conditions of the service, not of the person: never stored as a verdict, the person is
# asked again later. `refused`: the gateway's own access (login, IP, institution, user).
RETRYABLE = ("quota", "outside_hours", "unavailable", "refused")
OUTCOMES = VERDICTS + RETRYABLE

# The elements a verdict may score, in the order reports list them.
ELEMENTS = ("nik", "name", "birth_date", "birth_place", "gender")


@dataclass(frozen=True, slots=True)
class Person:
    """One worker's elements, as the registry holds them. `ref` identifies the person in the
    answer (the gateway's worker id); birth place is not kept by the registry (None)."""

    ref: int
    nik: str
    name: str
    birth_date: date
    gender: str  # "L" | "P"
    birth_place: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer about one person. `outcome` is one of OUTCOMES; `scores` element -> 0..100
    as the service gave them; `elements` those below the threshold (a mismatch); `code` the
    service's answer code ("01", "11", ...); `detail` a short text for operators, never
    holding an element's value."""

    ref: int
    outcome: str
    scores: dict[str, int] = field(default_factory=dict)
    elements: tuple[str, ...] = ()
    code: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown verification outcome {self.outcome!r}; one of {OUTCOMES}")

    @property
    def retryable(self) -> bool:
        return self.outcome in RETRYABLE


class VerifierSettings:
    """The provider's settings (`[verification.<plugin>]` in config/gateway.toml) and the
    gateway's threshold. `setting()` resolves `$env:NAME` / `$file:/path` references at use,
    so a secret never sits in the configuration itself."""

    def __init__(self, values: Mapping[str, Any], *, threshold: int) -> None:
        self.values = dict(values)
        self.threshold = threshold

    def setting(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name, default)
        return resolve_secret(value) if isinstance(value, str) else value

    def __repr__(self) -> str:  # never the secrets
        return f"VerifierSettings(threshold={self.threshold}, keys={sorted(self.values)})"
