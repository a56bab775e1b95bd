"""Coverage: enrolled workers against targets, per province, regency/city and agency.

A worker counts where the enrolling agency is (a regency's roster counts for the regency and
its province), never where the NIK says: the NIK prefix is where a person was first
registered (DOMAIN.md §3).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from gateway.agencies import UnknownAgency, resolve_agency
from gateway.store.tables import enrollments


class TargetsError(Exception):
    """config/targets.toml is missing or malformed."""


@dataclass(frozen=True)
class Target:
    code: str
    year: int
    target: int | None
    reported_percent: float | None
    source: str


# config/targets.toml beside the `gateway` package: present in a source checkout (an editable
# install). Looked at after ./config, as the rate tables are (rates.py): before, a gateway
# started from another folder showed no targets at all, silently.
CHECKOUT_TARGETS_FILE = Path(__file__).resolve().parent.parent / "config" / "targets.toml"


def load_targets(path: str | Path | None = None) -> list[Target]:
    """Targets from `path`, $JAMSOS_TARGETS_FILE, ./config/targets.toml or the checkout's
    config/targets.toml (none if there is none)."""
    given = path or os.environ.get("JAMSOS_TARGETS_FILE")
    local = Path("config/targets.toml")
    chosen = Path(given) if given else (local if local.is_file() else CHECKOUT_TARGETS_FILE)
    if not chosen.is_file():
        if path:
            raise TargetsError(f"targets file {chosen} does not exist")
        return []
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TargetsError(f"{chosen}: {exc}") from exc
    out = []
    for i, row in enumerate(data.get("targets", []), start=1):
        try:
            out.append(
                Target(
                    code=str(row["code"]),
                    year=int(row["year"]),
                    target=int(row["target"]) if "target" in row else None,
                    reported_percent=row.get("reported_percent"),
                    source=str(row.get("source", "")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TargetsError(f"{chosen}: target #{i} is malformed ({exc!r})") from exc
    return out


def _name(code: str) -> str:
    try:
        return resolve_agency(code).name
    except UnknownAgency:
        return code


def coverage(engine: Engine, targets: list[Target]) -> dict[str, list[dict[str, Any]]]:
    """{"provinces": [...], "regencies": [...], "agencies": [...]}, each row with enrolled
    (active) workers, the latest target, and the percentage where a target exists."""
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(enrollments.c.agency, func.count())
                .where(enrollments.c.status == "active")
                .group_by(enrollments.c.agency)
            ).all()
        )
    latest: dict[str, Target] = {}
    for t in sorted(targets, key=lambda t: t.year):
        latest[t.code] = t
    provinces: dict[str, int] = {}
    regencies: dict[str, int] = {}
    agencies: dict[str, int] = {}
    for agency, n in counts.items():
        if agency[:1].isdigit():
            provinces[agency[:2]] = provinces.get(agency[:2], 0) + n
            if "." in agency:
                regencies[agency] = regencies.get(agency, 0) + n
        else:
            agencies[agency] = n

    def kind_of(code: str) -> str:
        if not code[:1].isdigit():
            return "agencies"
        return "regencies" if "." in code else "provinces"

    def rows(found: dict[str, int], kind: str) -> list[dict[str, Any]]:
        codes = set(found) | {c for c in latest if kind_of(c) == kind}
        out = []
        for code in sorted(codes):
            t = latest.get(code)
            enrolled = found.get(code, 0)
            out.append(
                {
                    "code": code,
                    "name": _name(code),
                    "enrolled": enrolled,
                    "target": t.target if t else None,
                    "target_year": t.year if t else None,
                    "percent": round(100 * enrolled / t.target, 3) if t and t.target else None,
                    "gap": max(0, t.target - enrolled) if t and t.target else None,
                    "reported_percent": t.reported_percent if t else None,
                    "source": t.source if t else None,
                }
            )
        return out

    return {
        "provinces": rows(provinces, "provinces"),
        "regencies": rows(regencies, "regencies"),
        "agencies": rows(agencies, "agencies"),
    }
