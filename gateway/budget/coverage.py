"""Coverage: enrolled workers against targets, per province, regency/city and agency.

A worker counts where the enrolling agency is (a regency's roster counts for the regency and
its province), never where the NIK says: the NIK prefix is where a person was first
registered (docs/domain.md §3).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import clock
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.store.coverage import covered_counts
from gateway.store.reconcile import last_figures

if TYPE_CHECKING:
    from sqlalchemy import Engine


class TargetsError(Exception):
    """config/targets.toml is missing or malformed."""


@dataclass(frozen=True)
class Target:
    code: str
    year: int
    target: int | None
    reported_percent: float | None
    source: str  # where the figure comes from, in Bahasa Indonesia
    source_en: str = ""  # the same in English; empty: `source` serves both


# config/targets.toml beside the `gateway` package: present in a source checkout (an editable
# install). Looked at after ./config, as the rate tables are (rates.py): before, a gateway
# started from another folder showed no targets at all, silently.
CHECKOUT_TARGETS_FILE = Path(__file__).resolve().parents[2] / "config" / "targets.toml"


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
            target = Target(
                code=str(row["code"]),
                year=int(row["year"]),
                target=int(row["target"]) if "target" in row else None,
                reported_percent=row.get("reported_percent"),
                source=str(row.get("source", "")),
                source_en=str(row.get("source_en", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TargetsError(f"{chosen}: target #{i} is malformed ({exc!r})") from exc
        # Codes as the gateway writes them ("1505" is 15.05, "KEMENDES" kemendes): a target
        # under another spelling was shown as a province of its own, with nobody enrolled.
        try:
            code = resolve_agency(target.code).code
        except UnknownAgency as exc:
            raise TargetsError(f"{chosen}: target #{i}: {exc}") from exc
        if target.target is not None and target.target <= 0:
            raise TargetsError(f"{chosen}: target #{i} ({code}): target must be more than 0")
        percent = target.reported_percent
        if percent is not None and not (isinstance(percent, int | float) and 0 <= percent <= 100):
            raise TargetsError(f"{chosen}: target #{i} ({code}): reported_percent is 0 to 100")
        out.append(replace(target, code=code))
    return out


def name_of(code: str) -> str:
    """The agency's name as the region and ministry tables write it; the code if unknown."""
    try:
        return resolve_agency(code).name
    except UnknownAgency:
        return code


def coverage(engine: Engine, targets: list[Target]) -> dict[str, list[dict[str, Any]]]:
    """{"provinces": [...], "regencies": [...], "agencies": [...]}, each row with the workers
    covered today (an active enrollment whose start date has come), the latest target, and the
    percentage where a target exists. A province counts each person once, however many of its
    governments (the province itself, its regencies) enrol them."""
    counts, provinces = covered_counts(engine, clock.today())
    # The latest numeric target, and the latest reported percentage, each on its own: a later
    # year that reports only a percentage does not hide the last numeric target.
    latest: dict[str, Target] = {}
    reported: dict[str, Target] = {}
    for t in sorted(targets, key=lambda t: t.year):
        if t.target is not None or t.code not in latest:
            latest[t.code] = t
        if t.reported_percent is not None:
            reported[t.code] = t
    regencies: dict[str, int] = {}
    agencies: dict[str, int] = {}
    for agency, n in counts.items():
        if agency[:1].isdigit():
            if "." in agency:
                regencies[agency] = n
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
                    "name": name_of(code),
                    "enrolled": enrolled,
                    "target": t.target if t else None,
                    "target_year": t.year if t else None,
                    "percent": round(100 * enrolled / t.target, 3) if t and t.target else None,
                    "gap": max(0, t.target - enrolled) if t and t.target else None,
                    "reported_percent": reported[code].reported_percent
                    if code in reported
                    else None,
                    "source": t.source if t else None,
                    "source_en": (t.source_en or t.source) if t else None,
                }
            )
        return out

    table = {
        "provinces": rows(provinces, "provinces"),
        "regencies": rows(regencies, "regencies"),
        "agencies": rows(agencies, "agencies"),
    }
    return with_bpjs_facts(table, last_figures(engine))


# Why a row is behind its target, the largest of the three shortfalls (docs/reconcile.md):
# agencies roster too few, BPJS has not registered the rostered, or the registered are unpaid.
BEHIND = {
    "rostering": ("instansi belum mendaftarkan cukup pekerja", "agencies roster too few workers"),
    "registration": ("pekerja belum terdaftar di BPJS", "workers not registered at BPJS"),
    "payment": ("iuran belum lunas", "contributions not paid up"),
}


def with_bpjs_facts(table: dict[str, list[dict[str, Any]]],
                    last: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Each row with BPJS's figures from the last reconciliation (`jamsos reconcile run`):
    registered (a KPJ, aktif) and covered (registered and paid up), and why it is behind."""
    for kind, rows in table.items():
        found = (last or {}).get("provinces" if kind == "provinces" else "agencies", {})
        for row in rows:
            figures = found.get(row["code"]) if last else None
            row["registered"] = figures["registered"] if figures else None
            row["covered"] = figures["covered"] if figures else None
            row["bpjs_as_of"] = last.get("today") if last else None
            gaps = {}
            if row["target"]:
                gaps["rostering"] = row["target"] - row["enrolled"]
            if figures:
                gaps["registration"] = row["enrolled"] - figures["registered"]
                gaps["payment"] = figures["registered"] - figures["covered"]
            worst = max(gaps, key=lambda k: gaps[k]) if gaps else None
            behind = worst if worst is not None and gaps[worst] > 0 else None
            row["behind"] = behind
            row["behind_id"], row["behind_en"] = BEHIND[behind] if behind else (None, None)
    return table
