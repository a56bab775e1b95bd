"""POST /agencies/{code}/rosters and /rosters/check: a roster upload, through the one intake
the dashboard and the CLI use too (gateway/roster/intake.py). A submission is answered 202
with its run's URL and applied in the background; `?wait=1` answers when it is applied."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

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


def _confirm_endings() -> int | Response | None:
    """The `confirm_endings` form field: the number of endings the sender confirms."""
    text = (request.form.get("confirm_endings") or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        return api_error(
            400,
            "confirm_endings_invalid",
            "confirm_endings harus berupa bilangan bulat: jumlah pekerja yang akan diakhiri, "
            "seperti yang disebut pemeriksaan (rosters/check).",
            "confirm_endings must be a whole number: the number of workers to be ended, as the "
            "check (rosters/check) says.",
        )
    return int(text)


def _wait() -> bool:
    return request.args.get("wait", "").lower() in ("1", "true", "yes")


def _accepted(run_id: int) -> Response:
    url = f"/api/v1/runs/{run_id}"
    response = jsonify(
        run_id=run_id,
        status="running",
        run_url=url,
        message_id="Roster diterima dan sedang diterapkan; pantau hasilnya di run_url.",
        message_en="Roster accepted and being applied; follow its outcome at run_url.",
    )
    response.status_code = 202
    response.headers["Location"] = url
    return response


@bp.post("/agencies/<code>/rosters")
@require_key
def submit(code: str) -> Any:
    """Accepted at once (202, applied in the background: gateway/roster/queue.py) unless the
    client asks to wait (`?wait=1`) or it is a replay, which are answered as applied."""
    agency, error = agency_or_error(code)
    if error or agency is None:
        return error
    confirm = _confirm_endings()
    if isinstance(confirm, Response):
        return confirm
    runtime = gateway()
    try:
        with intake.spooled(runtime, request.files.get("file")) as (spool, filename):
            declaration = read_declaration(request.form.get("fiscal_year"),
                                           request.form.get("allocation"), agency=agency)
            started = intake.begin(runtime, spool, agency=agency, trigger="api",
                                   filename=filename, actor=g.api_key.actor)  # fmt: skip
            if started.replay is None and not _wait():
                assert started.run_id is not None
                intake.submit_later(runtime, started, spool, agency=agency, filename=filename,
                                    declaration=declaration, confirm_endings=confirm)  # fmt: skip
                return _accepted(started.run_id)
            submitted = intake.complete(runtime, started, spool, agency=agency,
                                        filename=filename, declaration=declaration,
                                        confirm_endings=confirm)  # fmt: skip
    except intake.UploadMissing:
        return _file_missing()
    except AllocationError as exc:
        return _allocation_error(exc)
    report = submitted.report
    refused = report.status == "failed" and report.endings is not None
    status = (409 if refused else 500 if report.status == "failed" else 200 if report.replayed
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
    runtime = gateway()
    try:
        with intake.spooled(runtime, request.files.get("file")) as (spool, filename):
            # What the submit would refuse, the check refuses too.
            read_declaration(request.form.get("fiscal_year"), request.form.get("allocation"),
                             agency=agency)  # fmt: skip
            report = intake.check(runtime, spool, agency=agency, filename=filename)
    except intake.UploadMissing:
        return _file_missing()
    except AllocationError as exc:
        return _allocation_error(exc)
    return jsonify(report.as_dict())
