"""The JSON schemas of the API's answers (OpenAPI components, see openapi.py).

Closed (`additionalProperties: false`) where the gateway builds the object itself, so a field
added to an answer but not here fails `tests/integration/test_api_contract.py`, which checks
real answers of every route against these.
"""

from __future__ import annotations

from typing import Any

from gateway.store.runs import RUN_CHANGES, RUN_COUNTS

_STR = {"type": "string"}
_INT = {"type": "integer"}
_DATE = {"type": "string", "format": "date"}


def _closed(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


ERROR = {
    "type": "object",
    "required": ["error", "message_id", "message_en"],
    "properties": {
        "error": _STR,
        "message_id": {"type": "string", "description": "Bahasa Indonesia"},
        "message_en": _STR,
        "limit_mb": {"type": "integer", "description": "413: the upload limit"},
        "allowed": {"type": "array", "items": _STR, "description": "405: the methods allowed"},
        "lookup": {"type": "string", "description": "410: the route that replaces this one"},
    },
    "additionalProperties": False,
}

# What BPJS was told about one enrollment and answered (docs/delivery.md).
BPJS_STATUS = _closed(
    ["status", "status_id", "status_en", "kpj"],
    {
        "status": {"enum": ["none", "pending", "sent", "accepted", "rejected", "ended"]},
        "status_id": {"enum": ["belum dikirim", "terkirim", "terdaftar", "ditolak",
                               "non-aktif"]},
        "status_en": _STR,
        "kpj": {"type": ["string", "null"], "description": "The BPJS membership number"},
        "month": {"type": ["string", "null"], "description": "Reporting month, YYYY-MM"},
        "reason_code": {"type": ["string", "null"]},
        "reason_id": {"type": ["string", "null"], "description": "Rejected: what to do"},
        "reason_en": {"type": ["string", "null"]},
    },
)

PROBLEM = _closed(
    ["row", "field", "code", "severity", "message_id", "message_en"],
    {
        "row": {"type": "integer", "description": "Row number as a spreadsheet shows it"},
        "field": {"type": ["string", "null"]},
        "code": _STR,
        "severity": {"enum": ["error", "warning"]},
        "message_id": _STR,
        "message_en": _STR,
    },
)

RUN = _closed(
    ["id", "agency", "source", "status", "started_at"],
    {
        "id": _INT,
        "agency": _STR,
        "source": _STR,
        "trigger": _STR,
        "actor": {
            "type": ["string", "null"],
            "description": "Who acted: api:<key prefix>, user:<name>, or the trigger",
        },
        "filename": {"type": ["string", "null"]},
        "status": {"enum": ["running", "succeeded", "rejected", "failed"]},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        **{k: _INT for k in RUN_COUNTS},
        "error": {"type": ["string", "null"]},
        "external_id": {
            "type": ["string", "null"],
            "description": "What started the run, e.g. the Airflow dag_id/run_id",
        },
    },
)

REPORT = _closed(
    ["rows", "accepted", "rejected", "warnings", "columns", "unknown_columns", "problems"],
    {
        "rows": _INT,
        "accepted": _INT,
        "rejected": _INT,
        "warnings": _INT,
        "columns": {"type": "object", "additionalProperties": _STR},
        "unknown_columns": {"type": "array", "items": _STR},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
        "problems_total": _INT,
        "problems_truncated": {"type": "boolean"},
        "run_id": _INT,
        "status": {"enum": ["checked", "succeeded", "rejected", "failed"]},
        "replayed": {"type": "boolean"},
        "changes": {"type": "object", "properties": {k: _INT for k in RUN_CHANGES}},
        "error": {"type": ["string", "null"]},
        "error_message": {
            "type": "object",
            "properties": {"message_id": _STR, "message_en": _STR},
            "description": "Why the run failed, worded for people (Bahasa Indonesia first); "
            "`error` keeps the cause as recorded",
        },
        "receipt": {
            "type": "object",
            "description": "Ed25519-signed receipt of the run; version 2 also states the "
            "declared_allocation recorded with it",
        },
        "declared_allocation": {
            "type": ["object", "null"],
            "description": "The allocation sent with the roster (fiscal_year and an amount "
            "per program) as recorded; null when the roster was not applied",
        },
        "allocation_note": {
            "type": "object",
            "properties": {"message_id": _STR, "message_en": _STR},
            "description": "Why a declared allocation was not recorded",
        },
        "allocation_check": {
            "type": "object",
            "description": "Once a declared allocation is recorded: the budget check of its "
            "fiscal year (as GET /budget/{government}/{year}: status, obligation, gap, lines, "
            "months_covered) with the sentence a clerk reads, message_id and message_en",
            "required": ["status", "fiscal_year", "gap", "message_id", "message_en"],
        },
        "run": {"$ref": "#/components/schemas/Run", "description": "GET /runs/{id}: the run"},
        "endings": {
            "type": "object",
            "description": "The agency's active workers the roster ends (a check: would end); "
            "above `threshold` a submission needs confirm_endings = would_end",
            "required": ["would_end", "active", "share", "threshold", "needs_confirmation",
                         "sample"],
            "properties": {
                "would_end": _INT,
                "active": _INT,
                "share": {"type": "number"},
                "threshold": {"type": "number"},
                "needs_confirmation": {"type": "boolean"},
                "sample": {
                    "type": "array",
                    "description": "A few of them: masked NIK, position, work unit",
                    "items": {"type": "object", "properties": {"nik": _STR}},
                },
            },
            "additionalProperties": False,
        },
    },
)

ACCEPTED = _closed(
    ["run_id", "status", "run_url", "message_id", "message_en"],
    {
        "run_id": _INT,
        "status": {"const": "running"},
        "run_url": {"type": "string", "description": "GET it until its status is not running"},
        "message_id": _STR,
        "message_en": _STR,
    },
)

_FACTS = {
    "type": ["object", "null"],
    "description": "The enrolled facts (category, position, work_unit, wage, start_date, "
    "end_date, status); `identity: changed` when only the name, birth date or gender moved",
}

WORKER = _closed(
    ["nik", "name", "birth_date", "gender", "nik_region", "enrollments"],
    {
        "nik": {"type": "string", "description": "Masked: 150501******0001"},
        "name": _STR,
        "birth_date": _DATE,
        "gender": {"enum": ["L", "P"]},
        "nik_region": _STR,
        "enrollments": {
            "type": "array",
            "items": _closed(
                ["agency", "category", "wage", "start_date", "end_date", "status", "history",
                 "bpjs"],
                {
                    "bpjs": BPJS_STATUS,
                    "agency": _STR,
                    "category": _STR,
                    "position": {"type": ["string", "null"]},
                    "work_unit": {"type": ["string", "null"]},
                    "wage": _INT,
                    "start_date": _DATE,
                    "end_date": {"type": ["string", "null"], "format": "date"},
                    "status": {"enum": ["active", "ended"]},
                    "history": {
                        "type": "array",
                        "items": _closed(
                            ["change", "run_id", "at", "before", "after"],
                            {
                                "change": {"enum": ["new", "changed", "ended", "reactivated"]},
                                "run_id": _INT,
                                "at": {"type": "string", "format": "date-time"},
                                "before": _FACTS,
                                "after": _FACTS,
                            },
                        ),
                    },
                },
            ),
        },
    },
)

BUDGET_CHECK = _closed(
    ["government", "fiscal_year", "status", "allocated", "obligation", "gap", "lines"],
    {
        "government": _STR,
        "name": _STR,
        "fiscal_year": _INT,
        "status": {"enum": ["sufficient", "shortfall", "no_budget"]},
        "allocated": _INT,
        "obligation": _INT,
        "gap": _INT,
        "workers": _INT,
        "worker_months": _INT,
        "workers_covered": _INT,
        "months_covered": _INT,
        "allocation_source": {"enum": ["apbd", "declared", None]},
        "allocations": _closed(
            ["apbd", "declared"],
            {"apbd": {"type": ["integer", "null"]}, "declared": {"type": ["integer", "null"]}},
        ),
        "disagreement": {"type": "boolean"},
        # Paid to BPJS so far this year (issue 18, docs/reconcile.md): what is left to pay of
        # the obligation and whether what is left of the allocation pays it.
        "paid": _closed(
            ["total", "by_program", "left_to_pay", "allocation_left", "lasts"],
            {"total": _INT, "by_program": {"type": "object", "additionalProperties": _INT},
             "billed": _INT, "bills_received": {"type": "boolean"}, "left_to_pay": _INT,
             "allocation_left": _INT, "lasts": {"type": "boolean"}},
        ),
        "lines": {
            "type": "array",
            "items": _closed(
                ["program", "account_code", "allocated", "obligation", "gap"],
                {
                    "program": {"enum": ["jkk", "jkm", "jht", "jp"]},
                    "account_code": {"type": ["string", "null"]},
                    "allocated": {"type": ["integer", "null"]},
                    "obligation": _INT,
                    "gap": _INT,
                },
            ),
        },
        "what_if": _closed(
            ["raise_percent", "minimum_wage"],
            {"raise_percent": {"type": "number"}, "minimum_wage": _INT},
        ),
    },
)

_COVERAGE_ROW = _closed(
    ["code", "name", "enrolled", "target", "target_year", "percent", "gap"],
    {
        "code": _STR,
        "name": _STR,
        "enrolled": _INT,
        "target": {"type": ["integer", "null"]},
        "target_year": {"type": ["integer", "null"]},
        "percent": {"type": ["number", "null"]},
        "gap": {"type": ["integer", "null"]},
        "reported_percent": {"type": ["number", "null"]},
        "source": {"type": ["string", "null"], "description": "Where the target comes "
                   "from, in Bahasa Indonesia"},
        "source_en": {"type": ["string", "null"], "description": "The same in English"},
        # BPJS's facts at the last reconciliation (docs/reconcile.md); null before any.
        "registered": {"type": ["integer", "null"], "description": "A KPJ, status aktif"},
        "covered": {"type": ["integer", "null"], "description": "Registered and paid up"},
        "bpjs_as_of": {"type": ["string", "null"], "format": "date"},
        "behind": {"enum": ["rostering", "registration", "payment", None]},
        "behind_id": {"type": ["string", "null"]},
        "behind_en": {"type": ["string", "null"]},
    },
)

_KINDS = ("provinces", "regencies", "agencies")
COVERAGE = _closed(list(_KINDS), {k: {"type": "array", "items": _COVERAGE_ROW} for k in _KINDS})

RECEIPT_KEY = _closed(
    ["key_id", "algorithm", "public_key_pem"],
    {"key_id": _STR, "algorithm": {"const": "Ed25519"}, "public_key_pem": _STR},
)

SCHEMAS = {
    "Error": ERROR,
    "Problem": PROBLEM,
    "Report": REPORT,
    "Accepted": ACCEPTED,
    "Run": RUN,
    "Worker": WORKER,
    "BudgetCheck": BUDGET_CHECK,
    "Coverage": COVERAGE,
    "ReceiptKey": RECEIPT_KEY,
}
