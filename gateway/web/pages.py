"""Overview, agency, budget and coverage pages (staff only).

Each page reads what the logged-in user may read (web/auth.py): every agency for compliance
staff, one agency for a user bound to it, whose overview shows its own figures instead of
the national ones and for whom another agency's page does not exist (404).
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for

from gateway import clock
from gateway.budget.check import RatesNotInForce
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.domain.nik import normalize_nik
from gateway.runtime import gateway
from gateway.sources.health import health_counts
from gateway.store import dashboard
from gateway.web.auth import login_required, may_read, readable_or_404, scope
from gateway.web.blueprint import bp
from gateway.web.charts import AMBER, BLUE, GREEN, RED, Bar, bar_chart, column_chart
from gateway.web.charts import progress_chart as progress
from gateway.web.data import (
    budget_check_cached,
    budget_rows,
    budget_years,
    coverage_table,
    display_name,
    enrollment_counts,
    id_arg,
    monthly_changes,
)
from gateway.web.i18n import fmt_int, fmt_pct, fmt_rp, tr
from gateway.web.masking import mask_name, mask_nik
from gateway.web.whatif import WhatIfError, parse_what_if, run_what_if

PAGE = 50


def engine() -> Any:
    return gateway().registry.engine


def readable_feeds() -> list[Any]:
    """The feeds of the agencies the user may read."""
    return [f for f in gateway().feeds() if may_read(f.agency)]


def fiscal_year() -> int:
    """The page's `year`, this year by default."""
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else clock.today().year


def coverage_chart(rows: list[dict[str, Any]], title: str | None = None) -> Any:
    targeted = [r for r in rows if r["target"]]
    return progress(
        [(display_name(r["name"]), r["enrolled"] / r["target"],
          f"{fmt_pct(r['percent'])} · {tr('kurang', 'gap')} {fmt_int(r['gap'])}")
         for r in targeted],
        title=title or tr("Terdaftar terhadap target per provinsi",
                          "Enrolled against target by province"),
    )


def _target_title() -> str | None:
    """A bound user's chart holds its own agency, not the provinces."""
    return tr("Terdaftar terhadap target", "Enrolled against target") if scope() else None


def _coverage_rows(agency: str | None) -> list[dict[str, Any]]:
    """The provinces nationally; a bound user's own single row, whatever its kind."""
    table = coverage_table(engine(), agency)
    return table["provinces"] if agency is None else [r for rows in table.values() for r in rows]


@bp.get("/")
@login_required
def overview() -> Any:
    feeds = readable_feeds()
    year = clock.today().year
    # The overview computes budget checks for at most 0.3 s: the budget page does the rest.
    budget = budget_rows(engine(), year, auto_seconds=0.3, agency=scope())
    provinces = _coverage_rows(scope())
    shown = request.args.get("health")
    listed = [f for f in feeds if not shown or f.health == shown]
    return render_template(
        "overview.html",
        feeds=listed[:PAGE],
        more_feeds=max(0, len(listed) - PAGE),
        counts=health_counts(feeds),
        shown=shown,
        year=year,
        budget=budget,
        budget_counts={s: sum(1 for b in budget if b.status == s)
                       for s in ("no_budget", "shortfall", "unchecked", "sufficient")},
        provinces=provinces,
        coverage_chart=coverage_chart(provinces, _target_title()), display_name=display_name,
        arrears=_arrears(scope()),
    )


def _arrears(agency: str | None) -> list[dict[str, Any]]:
    """NPPs past due at the last reconciliation, most overdue first (docs/reconcile.md): the
    overview's "bills overdue" card; a bound user sees its own agency's only."""
    from gateway.store.employers import list_employers
    from gateway.store.reconcile import last_figures

    last = last_figures(engine()) or {}
    agency_of = {r["npp"]: r["agency"] for r in list_employers(engine())}
    rows = [dict(e, agency=agency_of.get(e["npp"]), as_of=last.get("today"))
            for e in last.get("employers", []) if e.get("billed") and
            (e["months_owed"] or e["lapsed_from"] or e["warnings"])]  # fmt: skip
    if agency is not None:
        rows = [r for r in rows if r["agency"] == agency]
    return sorted(rows, key=lambda r: (-r["days_overdue"], r["npp"]))


@bp.get("/feeds")
@login_required
def feeds_page() -> Any:
    feeds = readable_feeds()
    shown = request.args.get("health")
    listed = [f for f in feeds if not shown or f.health == shown]
    page = max(1, request.args.get("page", 1, type=int))
    return render_template(
        "feeds.html", feeds=listed[(page - 1) * PAGE : page * PAGE], page=page,
        pages=max(1, -(-len(listed) // PAGE)), counts=health_counts(feeds), shown=shown,
    )


# -- agency ---------------------------------------------------------------------------------------


def _worker_page(code: str, status: str | None, after: int | None, before: int | None
                 ) -> tuple[list[dict[str, Any]], bool, bool]:
    """One page of the agency's workers by keyset on the enrollment id; (rows, has_prev,
    has_next). Only the rows shown are decrypted, and only to be masked."""
    rows, more = dashboard.worker_page(engine(), code, status, after, before, PAGE)
    ring = gateway().registry.keyring
    for r in rows:
        r["nik"] = mask_nik(ring.decrypt(r.pop("nik_enc"), "workers.nik"))
        r["name"] = mask_name(ring.decrypt(r.pop("name_enc"), "workers.name"))
    has_prev = (after is not None) or (before is not None and more)
    has_next = (before is not None) or more
    return rows, has_prev, has_next


@bp.route("/agencies/<code>", methods=["GET", "POST"])
@login_required
def agency(code: str) -> Any:
    try:
        found = resolve_agency(code)
    except UnknownAgency:
        abort(404)
    readable_or_404(found.code)
    if found.code != code:
        return redirect(url_for("web.agency", code=found.code))
    # Active workers by default: who is covered now is the usual question.
    status = request.args.get("status", "active")
    if status not in ("active", "ended", "all"):
        status = "active"
    rows, has_prev, has_next = _worker_page(
        code, None if status == "all" else status, id_arg("after"), id_arg("before"),
    )
    counts = dashboard.agency_status_counts(engine(), code)
    months = monthly_changes(engine(), code)
    chart = column_chart(
        [(m, (new, ended)) for m, new, _changed, ended in months[-24:]],
        [(tr("baru", "new"), GREEN), (tr("diakhiri", "ended"), RED)],
        title=tr("Perubahan per bulan", "Changes per month"),
        value_format=fmt_int,
    )
    searched = None
    if request.method == "POST":  # a NIK never goes into a URL (access logs keep URLs)
        searched = _search(code, request.form.get("nik", ""))
    return render_template(
        "agency.html", agency=found, rows=rows, has_prev=has_prev, has_next=has_next,
        status=status, counts=counts, months=months[-24:], chart=chart,
        runs=dashboard.runs_of(engine(), code), searched=searched,
    )


def _search(code: str, nik: str) -> dict[str, Any]:
    found = gateway().registry.find_worker(normalize_nik(nik)) if nik.strip() else None
    mine = [e for e in (found or {}).get("enrollments", []) if e["agency"] == code]
    if not found or not mine:
        return {"found": False}
    return {"found": True, "nik": found["nik"], "name": mask_name(found["name"]),
            "enrollments": mine}


# -- budget ---------------------------------------------------------------------------------------


@bp.get("/budget")
@login_required
def budget() -> Any:
    year = fiscal_year()
    try:
        rows = budget_rows(engine(), year, check=request.args.get("check"), agency=scope())
    except RatesNotInForce as exc:
        return _rates_not_in_force(exc, year)
    shown = request.args.get("status")
    listed = [r for r in rows if not shown or r.status == shown]
    page = max(1, request.args.get("page", 1, type=int))
    page_rows = listed[(page - 1) * PAGE : page * PAGE]
    checked = [r for r in page_rows if r.check is not None and (r.check.obligation or
                                                                  r.check.allocated)]
    chart = bar_chart(
        [Bar(r.name, (r.check.allocated, r.check.obligation),  # type: ignore
             note=(f"{tr('kurang', 'gap')} {fmt_rp(r.check.gap)}" if r.check.gap  # type: ignore
                   else tr("cukup", "enough")), highlight=bool(r.check.gap))  # type: ignore[union-attr]
         for r in checked[:20]],
        [(tr("alokasi", "allocation"), BLUE), (tr("kewajiban", "obligation"), AMBER)],
        title=tr(f"Alokasi dan kewajiban {year}", f"Allocation and obligation {year}"),
        value_format=fmt_rp,
    )
    return render_template(
        "budget.html", year=year, years=budget_years(engine()), rows=page_rows, page=page,
        pages=max(1, -(-len(listed) // PAGE)), shown=shown, chart=chart,
        counts={s: sum(1 for r in rows if r.status == s)
                for s in ("no_budget", "shortfall", "unchecked", "sufficient")},
    )


@bp.get("/budget/<government>")
@login_required
def budget_detail(government: str) -> Any:
    try:
        found = resolve_agency(government)
    except UnknownAgency:
        abort(404)
    if found.kind == "ministry":
        abort(404)
    readable_or_404(found.code)
    year = fiscal_year()
    try:
        check = budget_check_cached(engine(), found.code, year)
    except RatesNotInForce as exc:
        return _rates_not_in_force(exc, year, found)
    what, what_error, simulated = None, None, None
    try:
        what = parse_what_if(request.args)
        if what.asked:  # computed over the registry, written nowhere
            simulated = run_what_if(engine(), found.code, year, check, what)
    except WhatIfError as exc:
        what_error = str(exc)
    except RatesNotInForce as exc:
        what_error = tr(exc.message_id, exc.message_en)
    chart = bar_chart(
        [Bar(line.program.upper(), (line.allocated or 0, line.obligation),
             note=(f"{tr('kurang', 'gap')} {fmt_rp(line.gap)}" if line.gap
                   else tr("cukup", "enough")),
             highlight=bool(line.gap)) for line in check.lines],
        [(tr("alokasi", "allocation"), BLUE), (tr("kewajiban", "obligation"), AMBER)],
        title=tr(f"Per program {year}", f"By program {year}"),
        value_format=fmt_rp,
    )
    return render_template("budget_detail.html", agency=found, year=year, check=check,
                           chart=chart, years=budget_years(engine()), simulated=simulated,
                           what_error=what_error, what=request.args,
                           paid=_paid_to_bpjs(found.code, year, check),
                           ), 400 if what_error else 200


def _paid_to_bpjs(government: str, year: int, check: Any) -> dict[str, Any]:
    """Paid to BPJS so far this year beside allocation and obligation (docs/reconcile.md)."""
    from gateway.reconcile.billing import budget_paid, paid_this_year
    from gateway.reconcile.settings import reconcile_settings

    gw = gateway()
    paid = paid_this_year(gw.engine, government, year, reconcile_settings(gw.config),
                          clock.today())  # fmt: skip
    return budget_paid(check, paid)


def _rates_not_in_force(exc: RatesNotInForce, year: int, agency: Any = None) -> Any:
    """A year the rate tables do not cover: said on the page (422), not an HTTP 500."""
    message = tr(exc.message_id, exc.message_en)
    return render_template("budget_unavailable.html", year=year, years=budget_years(engine()),
                           agency=agency, message=message), 422


# -- coverage -------------------------------------------------------------------------------------


def drilled_province() -> str | None:
    """The `province` the coverage page is narrowed to (its regencies and cities); None for
    every province. Only in the national view: a bound user's page holds its own row."""
    code = (request.args.get("province") or "").strip()
    if not code:
        return None
    try:
        found = resolve_agency(code)
    except UnknownAgency:
        abort(404)
    if found.kind != "province" or scope() is not None:
        abort(404)
    return found.code


def coverage_tables(province: str | None) -> dict[str, list[dict[str, Any]]]:
    """The coverage table as the page shows it: national, the user's own row, or (`province`)
    that province's row and its regencies and cities."""
    table = coverage_table(engine(), scope())
    if province is None:
        return table
    return {"provinces": [r for r in table["provinces"] if r["code"] == province],
            "regencies": [r for r in table["regencies"] if r["code"].startswith(province + ".")],
            "agencies": []}


@bp.get("/coverage")
@login_required
def coverage_page() -> Any:
    province = drilled_province()
    table = coverage_tables(province)
    provinces = table["regencies"] if province else _coverage_rows(scope())
    enrolled = sorted((r for r in provinces if r["enrolled"]), key=lambda r: -r["enrolled"])
    title = (tr("Pekerja terdaftar per provinsi", "Enrolled workers by province") if not scope()
             else tr("Pekerja terdaftar instansi Anda", "Your agency's enrolled workers"))
    target_title = _target_title()
    if province:
        title = tr("Pekerja terdaftar per kabupaten/kota", "Enrolled workers by regency/city")
        target_title = tr("Terdaftar terhadap target per kabupaten/kota",
                          "Enrolled against target by regency/city")
    chart = bar_chart(
        [Bar(display_name(r["name"]), (r["enrolled"],), note=fmt_int(r["enrolled"]))
         for r in enrolled[:20]],
        [(tr("terdaftar (aktif)", "enrolled (active)"), BLUE)],
        title=title,
        value_format=fmt_int,
    )
    return render_template(
        "coverage.html", table=table, target_chart=coverage_chart(provinces, target_title),
        chart=chart, province=province,
        counts=enrollment_counts(engine()), display_name=display_name,
    )


