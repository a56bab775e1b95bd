"""Figures of the overview, budget and coverage pages, with the caching that keeps them fast
on a registry of a million enrollments.

* Counts of enrollments per agency and the coverage table scan the enrollments index once:
  they are kept per process until a run starts or finishes (dashboard.registry_stamp).
* A budget check streams every enrollment of a government through the contribution rules
  (about 8 s per million): it is computed on demand and kept until that government's
  registry or budget changes (its latest succeeded run, its allocation rows), which two
  cheap grouped queries tell for all governments at once. A page view computes unchecked
  governments for at most BUDGET_AUTO_SECONDS, smallest first, and offers the rest as a
  "check" link: the page answers quickly however large the registry is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, request

from gateway import clock
from gateway.budget.check import check_budget
from gateway.budget.coverage import coverage, load_targets, name_of, with_bpjs_facts
from gateway.budget.rates import load_packages, load_schedule
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.domain.budget import BudgetCheck
from gateway.store import dashboard
from gateway.store.budget import allocation_years
from gateway.store.coverage import covered_counts
from gateway.store.reconcile import last_figures

if TYPE_CHECKING:
    from sqlalchemy import Engine

COUNTS_TTL = 600.0  # a safety net: the registry stamp already tells when counts changed
BUDGET_AUTO_SECONDS = 2.0


class _Cache:
    """A tiny per-app cache: value and when it was made, under a lock (threaded servers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[Any, tuple[float, Any, Any]] = {}

    def get(self, key: Any, make: Callable[[], Any], *, ttl: float | None = None,
            stamp: Any = None) -> Any:
        """The cached value if younger than `ttl` (and made under the same `stamp`), else
        a fresh one."""
        now = time.monotonic()
        with self.lock:
            hit = self.items.get(key)
        if hit is not None and hit[1] == stamp and (ttl is None or now - hit[0] < ttl):
            return hit[2]
        value = make()
        with self.lock:
            self.items[key] = (now, stamp, value)
        return value

    def peek(self, key: Any, stamp: Any) -> Any:
        with self.lock:
            hit = self.items.get(key)
        return hit[2] if hit is not None and hit[1] == stamp else None


MAX_SQL_INT = 2**63 - 1


def id_arg(name: str) -> int | None:
    """An id from the query string, for a keyset: a value no database integer can hold is a
    bad request (SQLite would raise OverflowError), not a server error."""
    value = request.args.get(name, type=int)
    if value is not None and not 0 <= value <= MAX_SQL_INT:
        abort(400)
    return value


def cache() -> _Cache:
    return current_app.extensions.setdefault("jamsos_web_cache", _Cache())


def display_name(name: str) -> str:
    return name.title() if name.isupper() else name


def agency_name(code: str) -> str:
    """A name for people: the region table writes names in capitals ("KABUPATEN MUARO
    JAMBI"), which read as shouting in a table; a province's own government is named so."""
    try:
        agency = resolve_agency(code)
    except UnknownAgency:
        return code
    name = display_name(agency.name)
    return f"Provinsi {name}" if agency.kind == "province" else name


def enrollment_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """{agency: {"active": n, "ended": m}}, kept while the registry stamp stays the same."""
    return cache().get("enrollment_counts", lambda: dashboard.enrollment_counts(engine),
                       ttl=COUNTS_TTL, stamp=dashboard.registry_stamp(engine))


def coverage_table(engine: Engine, agency: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The coverage table: national, or (`agency`) only the row of a user's agency."""
    table = cache().get("coverage", lambda: coverage(engine, load_targets()), ttl=COUNTS_TTL,
                        stamp=dashboard.registry_stamp(engine))
    return table if agency is None else _own_coverage(engine, table, agency)


def _own_coverage(engine: Engine, table: dict[str, list[dict[str, Any]]], agency: str
                  ) -> dict[str, list[dict[str, Any]]]:
    """One row, the agency's own. A province's row in the national table counts its
    regencies' workers too, which its user does not read (store/users.py): it gets the
    province government's own roster, without the province-wide target it cannot be
    compared with."""
    kind = ("agencies" if not agency[:1].isdigit() else
            "regencies" if "." in agency else "provinces")  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {"provinces": [], "regencies": [], "agencies": []}
    row = next((r for r in table[kind] if r["code"] == agency), None)
    if row is None or kind == "provinces":
        enrolled = 0
        if kind == "provinces":
            own = cache().get("covered_counts",
                              lambda: covered_counts(engine, clock.today())[0],
                              ttl=COUNTS_TTL, stamp=dashboard.registry_stamp(engine))
            enrolled = own.get(agency, 0)
        row = {"code": agency, "name": name_of(agency), "enrolled": enrolled,
               "target": None, "target_year": None, "percent": None, "gap": None,
               "reported_percent": None, "source": None}
        # BPJS's figures of the government's own roster, not the province-wide ones.
        with_bpjs_facts({"agencies": [row]}, last_figures(engine))
    out[kind] = [row]
    return out


# -- budget -------------------------------------------------------------------------------------


@dataclass
class BudgetRow:
    code: str
    name: str
    active: int
    allocated: int | None  # the allocation the check uses (APBD feed wins over declared)
    allocation_source: str | None
    check: BudgetCheck | None  # None: not computed yet

    @property
    def status(self) -> str:
        if self.check is not None:
            return self.check.status
        return "no_budget" if not self.allocated else "unchecked"


def _chosen_allocation(entries: tuple) -> tuple[int | None, str | None]:
    """(total, source) of a government's allocation as the check reads it: the APBD feed
    wins over a declaration made with the roster."""
    by_source = {source: total for source, _n, _top, total in entries}
    for source in ("apbd", "declared"):
        if source in by_source:
            return by_source[source], source
    return None, None


def budget_check_cached(engine: Engine, government: str, year: int,
                        stamp: Any = None) -> BudgetCheck:
    if stamp is None:
        last_run, alloc = dashboard.budget_stamps(engine, year)
        stamp = (last_run.get(government), alloc.get(government))
    return cache().get(
        ("budget", government, year),
        lambda: check_budget(engine, government, year, schedule=load_schedule(),
                             packages=load_packages()),
        stamp=stamp,
    )


def budget_rows(engine: Engine, year: int, *, auto_seconds: float = BUDGET_AUTO_SECONDS,
                check: str | None = None, agency: str | None = None) -> list[BudgetRow]:
    """Every government with workers or an allocation for `year`, with the checks known;
    with `agency`, only that government (a user bound to it: nothing else is computed)."""
    counts = enrollment_counts(engine)
    last_run, alloc = dashboard.budget_stamps(engine, year)
    codes = {c for c in counts if c[:1].isdigit()} | set(alloc)
    if agency is not None:
        codes &= {agency}
    rows = []
    for code in codes:
        stamp = (last_run.get(code), alloc.get(code))
        total, source = _chosen_allocation(alloc.get(code, ()))
        rows.append(
            BudgetRow(code, agency_name(code), counts.get(code, {}).get("active", 0), total,
                      source, cache().peek(("budget", code, year), stamp))
        )
    deadline = time.monotonic() + auto_seconds
    for row in sorted(rows, key=lambda r: (r.code != check, r.active)):
        if row.check is None and (row.code == check or time.monotonic() < deadline):
            row.check = budget_check_cached(
                engine, row.code, year, (last_run.get(row.code), alloc.get(row.code))
            )
    order = {"no_budget": 0, "shortfall": 1, "unchecked": 2, "sufficient": 3}
    return sorted(rows, key=lambda r: (order[r.status], -(r.check.gap if r.check else 0),
                                       r.code))


def budget_years(engine: Engine) -> list[int]:
    """Years with an allocation, plus this year and the next (budgets are made a year ahead)."""
    this = clock.today().year
    return sorted(allocation_years(engine) | {this, this + 1}, reverse=True)


def monthly_changes(engine: Engine, agency: str) -> list[tuple[str, int, int, int]]:
    """(YYYY-MM, new, changed, ended) per month from the agency's succeeded runs."""
    months: dict[str, list[int]] = {}
    for started, new, changed, ended in dashboard.succeeded_changes(engine, agency):
        bucket = months.setdefault(started.strftime("%Y-%m"), [0, 0, 0])
        bucket[0] += new
        bucket[1] += changed
        bucket[2] += ended
    return [(m, *v) for m, v in sorted(months.items())]  # type: ignore[misc]
