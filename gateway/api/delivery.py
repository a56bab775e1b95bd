"""The key's agency's side of delivery to BPJS (docs/delivery.md): its employer mapping, its
mutations and their states, and a summary per employer and month. The OpenAPI paths are
DELIVERY_PATHS below, merged into openapi.py's document."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from gateway.api.auth import forbidden_agency, require_key
from gateway.api.blueprint import MAX_ID, bp, number_arg
from gateway.api.errors import api_error
from gateway.delivery.employers import EmployerError, register_employer
from gateway.delivery.views import undeliverable_workers
from gateway.runtime import gateway
from gateway.store import employers as employer_store
from gateway.store.mutations import counts_by_state, list_mutations

STATES = ("pending", "sent", "accepted", "rejected", "superseded")
MUTATION_FIELDS = ("id", "key", "employer_id", "kind", "month", "state", "attempts", "kpj",
                   "reason_code", "reason_id", "reason_en", "created_at", "sent_at",
                   "answered_at")  # fmt: skip


@bp.get("/employers")
@require_key
def list_employers() -> Any:
    return jsonify({"employers": employer_store.list_employers(gateway().engine,
                                                                agency=g.agency)})


@bp.post("/employers")
@require_key
def add_employer() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("npp"), str):
        return api_error(400, "employer_invalid",
                         "Kirim JSON dengan npp, destination, dan bila perlu division, "
                         "work_unit, segment (wadah), name.",
                         "Send JSON with npp, destination and, as needed, division, "
                         "work_unit, segment (wadah), name.")  # fmt: skip
    text = {k: body.get(k) if isinstance(body.get(k), str) else None
            for k in ("npp", "division", "work_unit", "segment", "destination", "name")}
    try:
        rule = register_employer(
            gateway(), agency=g.agency, kind="wadah" if text["segment"] else "npp",
            npp=text["npp"] or "", division=text["division"], segment=text["segment"],
            work_unit=text["work_unit"], destination=text["destination"] or "",
            name=text["name"], actor=f"api:{g.api_key.prefix}",
        )  # fmt: skip
    except EmployerError as exc:
        return api_error(422, "employer_invalid", exc.message_id, exc.message_en)
    found = employer_store.get_employer(gateway().engine, rule.id)
    return jsonify(found), 201


@bp.delete("/employers/<int:employer_id>")
@require_key
def remove_employer(employer_id: int) -> Any:
    engine = gateway().engine
    found = employer_store.get_employer(engine, employer_id) if employer_id <= MAX_ID else None
    if found is None:
        return api_error(404, "employer_not_found", "Pemberi kerja tidak ditemukan.",
                         "No such employer.")  # fmt: skip
    if found["agency"] != g.agency:
        return forbidden_agency()
    if not employer_store.remove_employer(engine, employer_id):
        return api_error(409, "employer_in_use",
                         "Pemberi kerja ini sudah punya mutasi dan tidak dapat dihapus.",
                         "This employer already has mutations and cannot be removed.")  # fmt: skip
    return Response(status=204)


@bp.get("/mutations")
@require_key
def mutations() -> Any:
    """The agency's mutations in id order; `after` pages, `state` / `month` filter."""
    limit = number_arg("limit", int, 1, 500)
    if isinstance(limit, Response):
        return limit
    after = number_arg("after", int, 0, MAX_ID)
    if isinstance(after, Response):
        return after
    state = request.args.get("state")
    if state is not None and state not in STATES:
        return api_error(400, "state_invalid", f"state harus salah satu dari {', '.join(STATES)}.",
                         f"state must be one of {', '.join(STATES)}.")  # fmt: skip
    rows = list_mutations(gateway().engine, agency=g.agency, state=state,
                          month=request.args.get("month"), after_id=after or 0,
                          limit=limit or 100)  # fmt: skip
    out = [{k: (r[k].isoformat() if hasattr(r[k], "isoformat") else r[k])
            for k in MUTATION_FIELDS} for r in rows]  # fmt: skip
    return jsonify({"mutations": out, "next_after": out[-1]["id"] if out else None})


@bp.get("/delivery")
@require_key
def delivery_summary() -> Any:
    """Counts by employer, month, kind and state, and the workers that cannot be delivered."""
    gw = gateway()
    blocked = undeliverable_workers(gw, g.agency, limit=100)
    return jsonify({"agency": g.agency,
                    "counts": counts_by_state(gw.engine, agency=g.agency),
                    "undeliverable": blocked})  # fmt: skip


# -- OpenAPI --------------------------------------------------------------------------------

_S = {"type": "string"}
_NS = {"type": ["string", "null"]}
_I = {"type": "integer"}


def _json(schema: dict, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERR = {"$ref": "#/components/schemas/Error"}
EMPLOYER = {"type": "object", "additionalProperties": False,
            "required": ["id", "agency", "kind", "npp", "destination"],
            "properties": {"id": _I, "agency": _S, "kind": {"enum": ["npp", "wadah"]},
                           "npp": _S, "division": _NS, "segment": _NS, "name": _NS,
                           "work_unit": _NS, "destination": _S}}  # fmt: skip
MUTATION = {"type": "object", "additionalProperties": False, "required": list(MUTATION_FIELDS),
            "properties": {"id": _I, "key": _S, "employer_id": _I,
                           "kind": {"enum": ["new", "wage", "identity", "ended"]},
                           "month": _S, "state": {"enum": list(STATES)}, "attempts": _I,
                           "kpj": _NS, "reason_code": _NS, "reason_id": _NS, "reason_en": _NS,
                           "created_at": _S, "sent_at": _NS, "answered_at": _NS}}  # fmt: skip
_401 = _json(_ERR, "Missing or invalid API key")
DELIVERY_PATHS: dict[str, Any] = {
    "/api/v1/employers": {
        "get": {"summary": "The key's agency's BPJS employers (NPP, division, wadah)",
                "responses": {"200": _json({"type": "object", "properties": {
                    "employers": {"type": "array", "items": EMPLOYER}}}, "Employers"),
                    "401": _401}},
        "post": {"summary": "Map the key's agency (or one of its work units) to an employer",
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["npp", "destination"],
                                "properties": {"npp": _S, "division": _S, "work_unit": _S,
                                               "segment": {"enum": ["SG", "SD", "SA", "SL"]},
                                               "destination": _S, "name": _S}}}}},
                 "responses": {"201": _json(EMPLOYER, "The employer kept"),
                               "400": _json(_ERR, "Not a JSON object with npp"),
                               "401": _401,
                               "422": _json(_ERR, "Invalid: NPP format, segment, overlapping "
                                                  "work-unit rule, unknown destination")}},
    },
    "/api/v1/employers/{employer_id}": {
        "delete": {"summary": "Remove a mapping nothing was derived under yet",
                   "parameters": [{"name": "employer_id", "in": "path", "required": True,
                                   "schema": _I}],
                   "responses": {"204": {"description": "Removed"}, "401": _401,
                                 "403": _json(_ERR, "Another agency's employer"),
                                 "404": _json(_ERR, "No such employer"),
                                 "409": _json(_ERR, "It has mutations")}},
    },
    "/api/v1/mutations": {
        "get": {"summary": "The key's agency's mutations to BPJS and their states",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"enum": list(STATES)}},
                    {"name": "month", "in": "query", "schema": _S},
                    {"name": "after", "in": "query", "schema": _I},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "mutations": {"type": "array", "items": MUTATION},
                    "next_after": {"type": ["integer", "null"]}}}, "Mutations"),
                    "400": _json(_ERR, "A parameter out of range"), "401": _401}},
    },
    "/api/v1/delivery": {
        "get": {"summary": "Mutations by employer, month, kind and state; undeliverable workers",
                "responses": {"200": _json({"type": "object", "properties": {
                    "agency": _S,
                    "counts": {"type": "array", "items": {"type": "object", "properties": {
                        "employer_id": _I, "month": _S, "kind": _S, "state": _S, "n": _I}}},
                    "undeliverable": {"type": "array", "items": {"type": "object"}}}},
                    "Summary"), "401": _401}},
    },
}
