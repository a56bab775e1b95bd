"""Identity verification for the key's agency (docs/verification.md):

* GET /runs/{id}/verification: the run's new and changed workers by verification state, and
  those the population registry does not confirm, by spreadsheet row, with what to do;
* GET /verification: the agency's active workers by state, the problems (paged by worker,
  newest first), and the state of the verification passes (paused by a quota until when).

NIKs come back masked; a verdict never carries an element, only scores and codes.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from gateway.api.auth import forbidden_agency, require_key
from gateway.api.blueprint import MAX_ID, bp, page_args
from gateway.api.errors import api_error
from gateway.runtime import gateway
from gateway.verify.report import agency_verification, pass_state, run_verification


@bp.get("/runs/<int:run_id>/verification")
@require_key
def run_verification_report(run_id: int) -> Any:
    registry = gateway().registry
    run = registry.get_run(run_id) if run_id <= MAX_ID else None
    if run is None:
        return api_error(404, "run_not_found", "Run tidak ditemukan.", "No such run.")
    if run["agency"] != g.agency:
        return forbidden_agency()
    return jsonify(run_verification(registry.engine, registry.keyring, run_id))


@bp.get("/verification")
@require_key
def agency_verification_report() -> Any:
    paging = page_args()
    if isinstance(paging, Response):
        return paging
    limit, before = paging
    registry = gateway().registry
    body = agency_verification(registry.engine, registry.keyring, g.agency, before=before,
                               limit=limit or 50)  # fmt: skip
    body["state"] = pass_state(registry.engine)
    return jsonify(body)


_COUNTS = {
    "type": "object",
    "description": "Workers per verification state: each verdict, pending (not asked yet, "
                   "or not since their identity changed), problems (every verdict but "
                   "match) and total",
    "additionalProperties": {"type": "integer"},
}
_PROBLEM = {
    "type": "object",
    "required": ["worker_id", "row", "nik", "outcome", "elements", "scores", "code",
                 "checked_at", "message_id", "message_en"],
    "properties": {
        "worker_id": {"type": "integer"},
        "row": {"type": ["integer", "null"],
                "description": "The spreadsheet row (or feed item) that brought the worker"},
        "nik": {"type": "string", "description": "masked: 150501******0001"},
        "outcome": {"enum": ["mismatch", "not_found", "deceased", "inactive", "several",
                             "unprocessable"]},
        "elements": {"type": "array", "items": {"type": "string"},
                     "description": "Elements below the threshold (a mismatch)"},
        "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
        "code": {"type": ["string", "null"], "description": "The service's answer code"},
        "checked_at": {"type": "string", "format": "date-time"},
        "message_id": {"type": "string"},
        "message_en": {"type": "string"},
        "run_id": {"type": ["integer", "null"]},
        "filename": {"type": ["string", "null"]},
    },
}  # fmt: skip
_ERRORS = {
    "401": {"description": "Missing or invalid API key",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "403": {"description": "The run belongs to another agency",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}  # fmt: skip

# The OpenAPI paths of this module (gateway/api/openapi.py merges them).
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/runs/{run_id}/verification": {"get": {
        "summary": "Identity verification of a run's new and changed workers: counts by "
                   "state and the problems by spreadsheet row (NIK masked)",
        "parameters": [{"name": "run_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {
            "200": {"description": "The run's verification", "content": {"application/json": {
                "schema": {"type": "object", "required": ["run_id", "counts", "problems"],
                           "properties": {"run_id": {"type": "integer"}, "counts": _COUNTS,
                                          "problems": {"type": "array", "items": _PROBLEM}}}}}},
            "404": {"description": "No such run", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}},
            **_ERRORS,
        },
    }},
    "/api/v1/verification": {"get": {
        "summary": "Identity verification of the key's agency: active workers by state, the "
                   "problems (newest worker first) and the state of the passes",
        "parameters": [
            {"name": "limit", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
            {"name": "before", "in": "query",
             "schema": {"type": "integer", "minimum": 1},
             "description": "A worker_id: the problems of workers before it"},
        ],
        "responses": {
            "200": {"description": "The agency's verification", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["agency", "counts", "problems", "state"],
                    "properties": {"agency": {"type": "string"}, "counts": _COUNTS,
                                   "problems": {"type": "array", "items": _PROBLEM},
                                   "state": {"type": "object",
                                             "description": "The last pass; `stopped` and "
                                             "`resume_at` when a quota, the access hours or "
                                             "the service paused it"}}}}}},
            "400": {"description": "limit or before out of range", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "401": _ERRORS["401"],
        },
    }},
}  # fmt: skip
