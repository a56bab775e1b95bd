"""The key's agency's reconciliation (docs/reconcile.md): its three coverage figures, its
worker-level differences (NIK masked) and, per NPP it owns, expected / billed / paid per month.
The OpenAPI paths are RECONCILE_PATHS, merged into openapi.py's document."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from gateway import clock
from gateway.api.auth import require_key
from gateway.api.blueprint import bp, number_arg
from gateway.api.errors import api_error
from gateway.reconcile.differences import KINDS
from gateway.runtime import gateway


def _reconciliation() -> Any:
    from gateway.reconcile.report import reconciliation

    return reconciliation(gateway(), today=clock.today())


@bp.get("/reconciliation")
@require_key
def reconciliation_summary() -> Any:
    rec = _reconciliation()
    own = sorted({r.npp for r in rec.rules if r.agency == g.agency})
    figures = rec.findings.agencies.get(g.agency)
    return jsonify({
        "agency": g.agency, "today": rec.today.isoformat(),
        "figures": figures.as_dict() if figures else
        {"rostered": 0, "registered": 0, "covered": 0},
        "differences": rec.findings.counts(g.agency),
        "employers": [rec.employer_status(npp) for npp in own],
    })  # fmt: skip


@bp.get("/reconciliation/differences")
@require_key
def reconciliation_differences() -> Any:
    from gateway.reconcile.views import difference_rows

    limit = number_arg("limit", int, 1, 1000)
    if isinstance(limit, Response):
        return limit
    kind = request.args.get("kind")
    if kind is not None and kind not in KINDS:
        return api_error(400, "kind_invalid", f"kind harus salah satu dari {', '.join(KINDS)}.",
                         f"kind must be one of {', '.join(KINDS)}.")  # fmt: skip
    rows = difference_rows(gateway(), _reconciliation(), agency=g.agency, kind=kind,
                           limit=limit or 100)  # fmt: skip
    keep = ("kind", "npp", "label_id", "label_en", "action_id", "action_en", "nik_masked",
            "kpj", "days", "wage_roster", "wage_bpjs", "bpjs_npp")  # fmt: skip
    return jsonify({"differences": [{k: d.get(k) for k in keep} for d in rows]})


@bp.get("/reconciliation/billing")
@require_key
def reconciliation_billing() -> Any:
    year = number_arg("year", int, 2015, 2100)
    if isinstance(year, Response):
        return year
    rec = _reconciliation()
    own = sorted({r.npp for r in rec.rules if r.agency == g.agency})
    return jsonify({"employers": [
        {"npp": npp, "months": [m.as_dict() for m in rec.months(npp, year or rec.today.year)]}
        for npp in own]})  # fmt: skip


# -- OpenAPI --------------------------------------------------------------------------------

_S, _I = {"type": "string"}, {"type": "integer"}
_NI = {"type": ["integer", "null"]}
_ERR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_FIGURES = {"type": "object", "additionalProperties": False,
            "required": ["rostered", "registered", "covered"],
            "properties": {"rostered": _I, "registered": _I, "covered": _I}}  # fmt: skip
_401 = _json(_ERR, "Missing or invalid API key")
_DIFFERENCE = _obj(kind={"enum": list(KINDS)}, npp={"type": ["string", "null"]},
                   nik_masked={"type": ["string", "null"]}, action_id=_S, action_en=_S)
_MONTH = _obj(month=_S, expected=_NI, billed=_NI, paid=_I, outstanding=_I, status=_S,
              days_overdue=_I, late_charge=_I)
RECONCILE_PATHS: dict[str, Any] = {
    "/api/v1/reconciliation": {"get": {
        "summary": "The key's agency: rostered, registered at BPJS, covered; differences by "
                   "kind; each NPP's arrears",
        "responses": {
            "200": _json(_obj(agency=_S, today=_S, figures=_FIGURES,
                              differences={"type": "object", "additionalProperties": _I},
                              employers=_list({"type": "object"})), "Summary"),
            "401": _401}}},
    "/api/v1/reconciliation/differences": {"get": {
        "summary": "The key's agency's worker-level differences with BPJS, each with what to do",
        "parameters": [{"name": "kind", "in": "query", "schema": {"enum": list(KINDS)}},
                       {"name": "limit", "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
        "responses": {"200": _json(_obj(differences=_list(_DIFFERENCE)), "Differences"),
                      "400": _json(_ERR, "Unknown kind or limit out of range"),
                      "401": _401}}},
    "/api/v1/reconciliation/billing": {"get": {
        "summary": "Expected, billed and paid per month of the key's agency's NPPs",
        "parameters": [{"name": "year", "in": "query", "schema": _I}],
        "responses": {
            "200": _json(_obj(employers=_list(_obj(npp=_S, months=_list(_MONTH)))), "Billing"),
            "400": _json(_ERR, "year out of range"), "401": _401}}},
}  # fmt: skip
