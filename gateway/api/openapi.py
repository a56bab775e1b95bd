"""The OpenAPI 3.1 document of /api/v1. A test checks it names exactly the blueprint's routes."""

from __future__ import annotations

from typing import Any

from gateway.store.tables import RUN_CHANGES, RUN_COUNTS

_ERROR = {
    "type": "object",
    "required": ["error", "message_id", "message_en"],
    "properties": {
        "error": {"type": "string"},
        "message_id": {"type": "string", "description": "Bahasa Indonesia"},
        "message_en": {"type": "string"},
    },
}

_PROBLEM = {
    "type": "object",
    "required": ["row", "field", "code", "severity", "message_id", "message_en"],
    "properties": {
        "row": {"type": "integer", "description": "Row number as a spreadsheet shows it"},
        "field": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "severity": {"enum": ["error", "warning"]},
        "message_id": {"type": "string"},
        "message_en": {"type": "string"},
    },
}

_REPORT = {
    "type": "object",
    "required": [
        "rows",
        "accepted",
        "rejected",
        "warnings",
        "columns",
        "unknown_columns",
        "problems",
    ],
    "properties": {
        "rows": {"type": "integer"},
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "warnings": {"type": "integer"},
        "columns": {"type": "object", "additionalProperties": {"type": "string"}},
        "unknown_columns": {"type": "array", "items": {"type": "string"}},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "problems_total": {"type": "integer"},
        "problems_truncated": {"type": "boolean"},
        "run_id": {"type": "integer"},
        "status": {"enum": ["checked", "succeeded", "rejected", "failed"]},
        "replayed": {"type": "boolean"},
        "changes": {
            "type": "object",
            "properties": {
                k: {"type": "integer"} for k in RUN_CHANGES
            },
        },
        "error": {"type": ["string", "null"]},
        "receipt": {"type": "object", "description": "Ed25519-signed receipt of the run"},
        "declared_allocation": {
            "type": ["object", "null"],
            "description": "The allocation sent with the roster (fiscal_year and an amount "
            "per program) as recorded; null when the roster was not applied",
        },
        "allocation_note": {
            "type": "object",
            "properties": {"message_id": {"type": "string"}, "message_en": {"type": "string"}},
            "description": "Why a declared allocation was not recorded",
        },
    },
}

_RUN = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "agency": {"type": "string"},
        "source": {"type": "string"},
        "trigger": {"type": "string"},
        "filename": {"type": ["string", "null"]},
        "status": {"enum": ["running", "succeeded", "rejected", "failed"]},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        **{k: {"type": "integer"} for k in RUN_COUNTS},
        "error": {"type": ["string", "null"]},
    },
}


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


def openapi_document() -> dict[str, Any]:
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
            "schemas": {"Error": _ERROR, "Problem": _PROBLEM, "Report": _REPORT, "Run": _RUN},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/agencies/{code}/rosters": {
                "post": {
                    "summary": "Submit a roster (snapshot of the agency's workers)",
                    "parameters": [_AGENCY],
                    "requestBody": _UPLOAD,
                    "responses": {
                        "201": _resp("Applied", "Report"),
                        "200": _resp("This exact file was applied before: that run", "Report"),
                        "400": _resp("No file attached", "Error"),
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
                        "400": _resp("No file attached", "Error"),
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
            "/api/v1/workers/{nik}": {
                "get": {
                    "summary": "A worker enrolled by the key's agency (NIK masked)",
                    "parameters": [
                        {
                            "name": "nik",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The worker and the agency's enrollments, each with "
                            "its history (new, changed, ended, reactivated: run, time, facts "
                            "before and after)"
                        },
                        "404": _resp("Not enrolled by this agency", "Error"),
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
                        "200": {"description": "sufficient, shortfall or no_budget, per program"},
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
                    "responses": {"200": {"description": "Coverage"}, "401": _ERRORS["401"]},
                }
            },
            "/api/v1/receipt-key": {
                "get": {
                    "summary": "The Ed25519 public key that signs receipts",
                    "security": [],
                    "responses": {"200": {"description": "key_id, algorithm, public_key_pem"}},
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI document"}},
                }
            },
        },
    }
