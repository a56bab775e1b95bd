"""Reconciliation on the dashboard (issue 18, docs/reconcile.md): per government (or ministry)
and month, the three coverage figures, each NPP's expected / billed / paid, and the
worker-level differences by kind with what to do (NIK masked), exported to .xlsx. A user
bound to an agency sees only that agency (web/auth.py)."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, render_template, request

from gateway import clock
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.reconcile.differences import KINDS
from gateway.reconcile.report import reconciliation
from gateway.reconcile.views import difference_rows
from gateway.runtime import gateway
from gateway.web.auth import login_required, readable_or_404, scope
from gateway.web.blueprint import bp
from gateway.web.export import Column, key, xlsx_response
from gateway.web.i18n import tr

PER_KIND = 50
# A reconciliation reads every enrollment and membership row (about 27 s at a million,
# docs/benchmarks.md): pages reuse one per day, registry stamp (a feed or roster applied
# since makes a new one) and employer mapping, for at most RECONCILE_TTL seconds.
RECONCILE_TTL = 600.0


def _reconciliation(gw: Any) -> Any:
    from gateway.store.dashboard import registry_stamp
    from gateway.store.employers import list_employers
    from gateway.web.data import cache

    today = clock.today()
    stamp = (today, registry_stamp(gw.engine),
             tuple(tuple(r.values()) for r in list_employers(gw.engine)))  # fmt: skip
    return cache().get("reconciliation", lambda: reconciliation(gw, today=today),
                       ttl=RECONCILE_TTL, stamp=stamp)  # fmt: skip
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _agency_and_month() -> tuple[str | None, str]:
    code = scope() or (request.args.get("agency") or "").strip() or None
    if code is not None:
        try:
            code = resolve_agency(code).code
        except UnknownAgency:
            abort(404)
        readable_or_404(code)
    month = request.args.get("month") or clock.today().strftime("%Y-%m")
    if not _MONTH.fullmatch(month):
        abort(400)
    return code, month


@bp.get("/reconciliation")
@login_required
def reconciliation_page() -> Any:
    gw = gateway()
    code, month = _agency_and_month()
    rec = _reconciliation(gw)
    agencies = sorted(rec.findings.agencies) if scope() is None else [scope()]
    figures = rec.findings.agencies.get(code) if code else None
    npps = sorted({r.npp for r in rec.rules if r.agency == code}) if code else []
    months = []
    for npp in npps:
        found = [m for m in rec.months(npp, int(month[:4])) if m.month == month]
        months.append((npp, found[0] if found else None, rec.employer_status(npp)))
    differences = {kind: difference_rows(gw, rec, agency=code, kind=kind, limit=PER_KIND)
                   for kind in KINDS} if code else {}  # fmt: skip
    return render_template(
        "reconciliation.html", agency=code, month=month, agencies=agencies, figures=figures,
        months=months, differences=differences, counts=rec.findings.counts(code),
        kinds=KINDS, per_kind=PER_KIND,
        national={a: f for a, f in sorted(rec.findings.agencies.items())} if code is None
        and scope() is None else {},
    )  # fmt: skip


@bp.get("/reconciliation/differences.xlsx")
@login_required
def reconciliation_differences_xlsx() -> Any:
    gw = gateway()
    code, _ = _agency_and_month()
    if code is None:
        abort(404)
    rows = difference_rows(gw, _reconciliation(gw), agency=code, limit=1_000_000)
    english = tr("id", "en") == "en"
    columns = [
        Column(tr("Jenis", "Kind"), key("label_en" if english else "label_id")),
        Column("NPP", key("npp")),
        Column("NIK", key("nik_masked")),
        Column("KPJ", key("kpj")),
        Column(tr("Upah di daftar", "Wage on the roster"), key("wage_roster"), "money"),
        Column(tr("Upah di BPJS", "Wage at BPJS"), key("wage_bpjs"), "money"),
        Column(tr("Tindakan", "What to do"), key("action_en" if english else "action_id")),
    ]
    return xlsx_response(f"selisih-bpjs-{code}.xlsx", columns, rows,
                         sheet=tr("Selisih", "Differences"),
                         about=[(tr("Instansi", "Agency"), code)])  # fmt: skip
