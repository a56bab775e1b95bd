"""GET /budget/{government}/{year} (the key's own government) and GET /coverage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, jsonify

from gateway.api.auth import require_key
from gateway.api.blueprint import agency_or_error, bp, number_arg
from gateway.api.errors import api_error
from gateway.budget.check import RatesNotInForce, WageScenario, check_budget
from gateway.budget.coverage import coverage, load_targets
from gateway.budget.rates import load_packages, load_schedule
from gateway.runtime import gateway


@bp.get("/budget/<government>/<int:year>")
@require_key
def budget_check(government: str, year: int) -> Any:
    agency, error = agency_or_error(government)
    if error or agency is None:
        return error
    if not 2000 <= year <= 2100:
        return api_error(400, "year_invalid", "Tahun anggaran harus 2000-2100.",
                         "The fiscal year must be 2000-2100.")
    if agency.kind == "ministry":  # paid from the state budget (APBN), not an APBD
        return api_error(
            400,
            "not_a_regional_government",
            "Pemeriksaan alokasi APBD hanya untuk pemerintah daerah; kementerian dibiayai APBN.",
            "APBD allocation checks are for regional governments; a ministry is paid from the "
            "state budget (APBN).",
        )
    minimum = number_arg("what_if_min_wage", int, 1, 1_000_000_000, "what_if_invalid")
    if isinstance(minimum, Response):
        return minimum
    raise_pct = number_arg("what_if_raise", float, 0, 1000, "what_if_invalid")
    if isinstance(raise_pct, Response):
        return raise_pct
    scenario = None
    if minimum or raise_pct:
        scenario = WageScenario(raise_percent=Decimal(str(raise_pct or 0)),
                                minimum_wage=minimum or 0)
    try:
        result = check_budget(gateway().registry.engine, agency.code, year,
                              schedule=load_schedule(), packages=load_packages(),
                              scenario=scenario)
    except RatesNotInForce as exc:
        return api_error(422, exc.code, exc.message_id, exc.message_en)
    body = dict(result.as_dict(), name=agency.name)
    body["paid"] = _paid(result, agency.code, year)
    if scenario is not None:
        body["what_if"] = scenario.as_dict()
    return jsonify(body)


@bp.get("/coverage")
@require_key
def coverage_report() -> Any:
    # Aggregate counts only, no PII: every agency may see how far everyone is.
    return jsonify(coverage(gateway().registry.engine, load_targets()))


def _paid(result: Any, government: str, year: int) -> dict[str, Any]:
    """Paid to BPJS so far this year, per program, from the reconciliation's payments."""
    from gateway import clock
    from gateway.reconcile.billing import budget_paid, paid_this_year
    from gateway.reconcile.settings import reconcile_settings

    gw = gateway()
    paid = paid_this_year(gw.engine, government, year, reconcile_settings(gw.config),
                          clock.today())  # fmt: skip
    return budget_paid(result, paid)
