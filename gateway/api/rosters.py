"""POST /agencies/{code}/rosters and /rosters/check: a roster upload, through the one intake
the dashboard and the CLI use too (gateway/roster/intake.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from gateway.api.auth import require_key
from gateway.api.blueprint import agency_or_error, bp
from gateway.api.errors import api_error
from gateway.budget.allocation import AllocationError, read_declaration
from gateway.roster import intake
from gateway.runtime import gateway


def _file_missing() -> Response:
    return api_error(
        400,
        "file_missing",
        "Lampirkan berkas roster (CSV atau XLSX) pada kolom 'file'.",
        "Attach the roster file (CSV or XLSX) in the 'file' form field.",
    )


def _allocation_error(exc: AllocationError) -> Response:
    return api_error(400, "allocation_invalid", exc.message_id, exc.message_en)


@bp.post("/agencies/<code>/rosters")
@require_key
def submit(code: str) -> Any:
    agency, error = agency_or_error(code)
    if error or agency is None:
        return error
    try:
        with intake.spooled(request.files.get("file")) as (path, filename):
            declaration = read_declaration(request.form.get("fiscal_year"),
                                           request.form.get("allocation"), agency=agency)
            submitted = intake.submit(gateway(), path, agency=agency, trigger="api",
                                      filename=filename, declaration=declaration)
    except intake.UploadMissing:
        return _file_missing()
    except AllocationError as exc:
        return _allocation_error(exc)
    report = submitted.report
    status = (500 if report.status == "failed" else 200 if report.replayed
              else 201 if report.status == "succeeded" else 422)  # fmt: skip
    response = jsonify(submitted.as_dict())
    response.status_code = status
    if status != 500:
        response.headers["Location"] = f"/api/v1/runs/{report.run_id}"
    return response


@bp.post("/agencies/<code>/rosters/check")
@require_key
def check(code: str) -> Any:
    agency, error = agency_or_error(code)
    if error or agency is None:
        return error
    try:
        with intake.spooled(request.files.get("file")) as (path, filename):
            # What the submit would refuse, the check refuses too.
            read_declaration(request.form.get("fiscal_year"), request.form.get("allocation"),
                             agency=agency)  # fmt: skip
            report = intake.check(gateway(), path, agency=agency, filename=filename)
    except intake.UploadMissing:
        return _file_missing()
    except AllocationError as exc:
        return _allocation_error(exc)
    return jsonify(report.as_dict())
