"""The OpenAPI 3.1 document of /api/v1. A test checks it names exactly the blueprint's routes."""

from __future__ import annotations

from typing import Any

from gateway.api.delivery import DELIVERY_PATHS
from gateway.api.reconcile import RECONCILE_PATHS
from gateway.api.schemas import SCHEMAS
from gateway.api.verification import OPENAPI_PATHS as VERIFICATION_PATHS


def _resp(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS = {
    "401": _resp("Missing or invalid API key", "Error"),
    "403": _resp("The key belongs to another agency", "Error"),
    "503": _resp(
        "The database is busy or unreachable, or this gateway's keys do not open the stored "
        "data: nothing was applied",
        "Error",
    ),
}

_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "confirm_endings": {
                        "type": "integer",
                        "description": "Submit only: the number of workers the roster ends, "
                        "as the check says; required when it is more than "
                        "ENDING_CONFIRM_SHARE (20 %) of the agency's active workers",
                    },
                    "fiscal_year": {"type": "integer",
                                    "description": "Year of a declared allocation"},
                    "allocation": {"type": "string",
                                   "description": "e.g. jkk=24.000.000,jkm=30.000.000"},
                },
            }
        }
    },
}

_AGENCY = {
    "name": "code",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Agency code: a ministry (kemenkes) or a Kemendagri region code (15.05)",
}


# GET /identity-conflicts (api/conflicts.py): inline, as only that route answers it.
_CONFLICTS = {
    "type": "object",
    "required": ["conflicts"],
    "additionalProperties": False,
    "properties": {"conflicts": {"type": "array", "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "nik", "fields", "first_run_id", "last_run_id", "detected_at",
                     "last_seen_at", "resolved_at"],
        "properties": {
            "id": {"type": "integer"},
            "nik": {"type": "string", "description": "masked: 150501******0001"},
            "fields": {"type": "array",
                       "items": {"enum": ["name", "birth_date", "gender"]}},
            "first_run_id": {"type": "integer"},
            "last_run_id": {"type": "integer"},
            "detected_at": {"type": "string", "format": "date-time"},
            "last_seen_at": {"type": "string", "format": "date-time"},
            "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        },
    }}},
}  # fmt: skip


def openapi_document() -> dict[str, Any]:
    document = _document()
    # Resource modules that keep their own paths beside their routes.
    document["paths"].update(DELIVERY_PATHS)
    document["paths"].update(RECONCILE_PATHS)
    return document


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jamsos Gateway API",
            "version": "1",
            "description": "Roster submission and enrollment registry for non-ASN workers.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/agencies/{code}/rosters": {
                "post": {
                    "summary": "Submit a roster (snapshot of the agency's workers)",
                    "parameters": [
                        _AGENCY,
                        {"name": "wait", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": ["1", "true", "yes"]},
                         "description": "Answer when applied (201/422/409/500), not 202"},
                    ],
                    "requestBody": _UPLOAD,
                    "responses": {
                        "202": _resp("Accepted: being applied in the background; GET run_url "
                                     "(Location) until its status is not running", "Accepted"),
                        "201": _resp("Applied (?wait=1)", "Report"),
                        "409": _resp(
                            "?wait=1: it would end more than ENDING_CONFIRM_SHARE of the "
                            "agency's active workers without confirm_endings equal to that "
                            "number (endings.would_end): nothing applied, the run failed",
                            "Report",
                        ),
                        "200": _resp("This exact file was applied before: that run", "Report"),
                        "400": _resp(
                            "No file attached, a declared allocation that cannot be read "
                            "(allocation_invalid), or confirm_endings not a whole number",
                            "Error",
                        ),
                        "404": _resp("Unknown agency code", "Error"),
                        "413": _resp("File too large", "Error"),
                        "422": _resp("Nothing acceptable in the file: nothing applied", "Report"),
                        "500": _resp("The apply failed and was rolled back", "Report"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/agencies/{code}/rosters/check": {
                "post": {
                    "summary": "Validate a roster without applying it",
                    "parameters": [_AGENCY],
                    "requestBody": _UPLOAD,
                    "responses": {
                        "200": _resp("Validation report", "Report"),
                        "400": _resp(
                            "No file attached, or a declared allocation that cannot be read "
                            "(allocation_invalid)",
                            "Error",
                        ),
                        "404": _resp("Unknown agency code", "Error"),
                        "413": _resp("File too large", "Error"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/runs": {
                "get": {
                    "summary": "The key's agency's runs, newest first",
                    "parameters": [
                        {"name": "limit", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 500,
                                    "default": 50}},
                        {"name": "before", "in": "query",
                         "schema": {"type": "integer", "minimum": 1}},
                    ],
                    "responses": {
                        "200": {
                            "description": "Runs",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "runs": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Run"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "400": _resp("limit or before is not a whole number in range", "Error"),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/v1/runs/{run_id}": {
                "get": {
                    "summary": "A run's report",
                    "parameters": [
                        {
                            "name": "run_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                    "responses": {
                        "200": _resp("The run's report", "Report"),
                        "404": _resp("No such run", "Error"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/workers/lookup": {
                "post": {
                    "summary": "A worker enrolled by the key's agency (NIK masked); the NIK "
                               "goes in the body, never in a URL (access logs keep URLs)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["nik"],
                            "properties": {"nik": {"type": "string",
                                                   "description": "16 digits"}},
                        }}},
                    },
                    "responses": {
                        "200": _resp(
                            "The worker and the agency's enrollments, each with its history "
                            "(new, changed, ended, reactivated: run, time, facts before and "
                            "after)",
                            "Worker",
                        ),
                        "400": _resp("No NIK in the JSON body (nik_missing), or not 16 digits "
                                     "(nik_invalid)", "Error"),
                        "404": _resp("Not enrolled by this agency", "Error"),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/v1/workers/{nik}": {
                "get": {
                    "summary": "Gone: use POST /api/v1/workers/lookup (a NIK in a URL is "
                               "written to access logs)",
                    "deprecated": True,
                    "parameters": [
                        {
                            "name": "nik",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "410": _resp("Nothing looked up; `lookup` names the POST route",
                                     "Error"),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/v1/identity-conflicts": {
                "get": {
                    "summary": "Rows of the key's agency whose name, birth date or gender "
                               "differs from the identity another agency enrolled (NIK "
                               "masked; the other agency is not named)",
                    "parameters": [
                        {"name": "state", "in": "query",
                         "schema": {"type": "string", "enum": ["open", "resolved"],
                                    "default": "open"}},
                        {"name": "limit", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 500,
                                    "default": 50}},
                        {"name": "before", "in": "query",
                         "schema": {"type": "integer", "minimum": 1}},
                    ],
                    "responses": {
                        "200": {
                            "description": "Identity conflicts, newest first",
                            "content": {"application/json": {"schema": _CONFLICTS}},
                        },
                        "400": _resp("state, limit or before out of range", "Error"),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/v1/budget/{government}/{year}": {
                "get": {
                    "summary": "Budget-allocation check of the key's government for a year",
                    "parameters": [
                        {"name": "government", "in": "path", "required": True,
                         "schema": {"type": "string"}},
                        {"name": "year", "in": "path", "required": True,
                         "schema": {"type": "integer"}},
                        {"name": "what_if_min_wage", "in": "query",
                         "schema": {"type": "integer"}},
                        {"name": "what_if_raise", "in": "query", "schema": {"type": "number"}},
                    ],
                    "responses": {
                        "200": _resp("sufficient, shortfall or no_budget, per program",
                                     "BudgetCheck"),
                        "400": _resp(
                            "Fiscal year out of range, a what-if that is not a number in range, "
                            "or a ministry (APBD checks are for regional governments)",
                            "Error",
                        ),
                        "404": _resp("Unknown government code", "Error"),
                        "422": _resp(
                            "rates_not_in_force: the rate tables do not cover a month some "
                            "enrolled worker has in that year (e.g. before July 2015)",
                            "Error",
                        ),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/coverage": {
                "get": {
                    "summary": "Enrolled workers against targets per province, regency, agency",
                    "responses": {"200": _resp("Coverage", "Coverage"),
                                  "401": _ERRORS["401"]},
                }
            },
            "/api/v1/receipt-key": {
                "get": {
                    "summary": "The Ed25519 public key that signs receipts",
                    "security": [],
                    "responses": {"200": _resp("The public key", "ReceiptKey")},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            **VERIFICATION_PATHS,  # api/verification.py
        },
    }
