"""The JSON API under /api/v1: roster submissions, their reports, runs and worker lookup."""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from gateway import clock
from gateway.api.auth import forbidden_agency, require_key
from gateway.api.errors import api_error
from gateway.api.openapi import openapi_document
from gateway.budget.allocation import AllocationError, declare_allocation, parse_allocation
from gateway.budget.check import RatesNotInForce, WageScenario, check_budget
from gateway.budget.coverage import coverage, load_targets
from gateway.budget.rates import load_packages, load_schedule
from gateway.domain.agencies import Agency, UnknownAgency, resolve_agency
from gateway.domain.nik import normalize_nik
from gateway.roster.read.errors import RosterFileError
from gateway.roster.report import ALLOCATION_NOT_RECORDED
from gateway.roster.run import RunFailed, check_roster, stored_report, submit_roster
from gateway.runtime import gateway
from gateway.security.crypto import KeyRingError
from gateway.security.receipts import public_pem
from gateway.store.db import aware
from gateway.store.tables import RUN_COUNTS

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RUN_FIELDS = (
    "id",
    "agency",
    "source",
    "trigger",
    "filename",
    "status",
    "started_at",
    "finished_at",
    *RUN_COUNTS,
    "error",
    "external_id",  # what started it, e.g. the Airflow dag_id/run_id
)


def run_json(run: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in RUN_FIELDS:
        value = run.get(key)
        if isinstance(value, datetime):
            value = aware(value)  # SQLite drops the zone; we store UTC
        out[key] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


@bp.after_request
def _never_cached(response: Response) -> Response:
    # Answers carry reports and, for a worker lookup, a full name and birth date: never kept
    # by a browser or a proxy in between.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def unrouted(exc: HTTPException) -> Any:
    """An unknown path under /api/, or a method a path does not take, answered in JSON like
    every other API error (app.py routes it here: routing fails before any API view runs, so
    the blueprint's own handlers never see it). The path is not repeated: it may hold a NIK
    (/workers/{nik})."""
    if isinstance(exc, MethodNotAllowed):
        response = api_error(
            405,
            "method_not_allowed",
            f"Metode {request.method} tidak tersedia untuk rute ini.",
            f"{request.method} is not allowed on this route.",
            allowed=sorted(exc.valid_methods or ()),
        )
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
        return response
    return api_error(
        404,
        "not_found",
        "Rute ini tidak ada di API; daftar rute ada di /api/v1/openapi.json.",
        "There is no such route in this API; the routes are listed at /api/v1/openapi.json.",
    )


@bp.errorhandler(OperationalError)
def database_unavailable(exc: OperationalError) -> Any:
    """The database is locked past the busy timeout, or unreachable: nothing was written (a
    run cannot even be recorded), so the client is told to retry, in JSON, not an HTML 500."""
    current_app.logger.warning("database unavailable: %s", exc.orig)
    response = api_error(
        503,
        "database_unavailable",
        "Basis data sedang sibuk atau tidak dapat dihubungi; tidak ada yang diterapkan. "
        "Kirim ulang berkas yang sama dalam beberapa menit.",
        "The database is busy or unreachable; nothing was applied. Send the same file again "
        "in a few minutes.",
    )
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(KeyRingError)
def keys_do_not_open_the_data(exc: KeyRingError) -> Any:
    """Stored values under a key this process lacks (rotated by `jamsos keys rotate` with a
    new key not yet given to this gateway): a configuration fault, answered in JSON."""
    current_app.logger.error("keys do not open the stored data: %s", exc)
    return api_error(
        503,
        "keys_misconfigured",
        "Kunci enkripsi gateway ini tidak dapat membuka data tersimpan; hubungi operator. "
        "Tidak ada yang diterapkan.",
        "This gateway's encryption keys do not open the stored data; contact the operator. "
        "Nothing was applied.",
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: Exception) -> Any:
    limit = gateway().config["MAX_UPLOAD_MB"]
    refused = RosterFileError.from_catalog("file_too_large", limit=limit)
    return api_error(413, refused.code, refused.message_id, refused.message_en, limit_mb=limit)


def _agency_or_error(code: str) -> Any:
    try:
        agency = resolve_agency(code)
    except UnknownAgency as exc:
        return None, api_error(404, "unknown_agency", exc.message_id, str(exc))
    if agency.code != g.agency:
        return None, forbidden_agency()
    return agency, None


def _spooled_upload() -> tuple[Path | None, str | None, Any]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return (
            None,
            None,
            api_error(
                400,
                "file_missing",
                "Lampirkan berkas roster (CSV atau XLSX) pada kolom 'file'.",
                "Attach the roster file (CSV or XLSX) in the 'file' form field.",
            ),
        )
    fd, name = tempfile.mkstemp(prefix="roster-", suffix=Path(upload.filename).suffix[:8])
    with os.fdopen(fd, "wb") as fh:
        upload.save(fh)
    return Path(name), upload.filename, None


@bp.post("/agencies/<code>/rosters")
@require_key
def submit(code: str) -> Any:
    agency, error = _agency_or_error(code)
    if error:
        return error
    path, filename, error = _spooled_upload()
    if error:
        return error
    try:
        amounts = _declared_allocation(agency)
    except AllocationError as exc:
        path.unlink(missing_ok=True)
        return _allocation_error(exc)
    try:
        report = submit_roster(
            gateway().registry,
            path,
            agency=agency,
            today=clock.today(),
            trigger="api",
            filename=filename,
            batch_size=gateway().config["BATCH_SIZE"],
        )
    except RunFailed as exc:
        return jsonify(exc.report.as_dict()), 500
    finally:
        path.unlink(missing_ok=True)
    status = 200 if report.replayed else 201 if report.status == "succeeded" else 422
    body = report.as_dict()
    if amounts and report.status == "succeeded":
        year = int(request.form["fiscal_year"])
        declare_allocation(gateway().registry.engine, agency.code, year, amounts, report.run_id)
        body["declared_allocation"] = {"fiscal_year": year, **amounts}
    elif amounts:  # sent with a roster that was not applied: say so, it is not kept
        body["declared_allocation"] = None
        body["allocation_note"] = ALLOCATION_NOT_RECORDED.as_message()
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = f"/api/v1/runs/{report.run_id}"
    return response


# The two form fields as the API names them; the dashboard's form passes its own labels.
API_ALLOCATION_FIELDS = {"year": ("fiscal_year", "fiscal_year"),
                         "allocation": ("allocation", "allocation")}  # fmt: skip


def _declared_allocation(
    agency: Agency, fields: dict[str, tuple[str, str]] = API_ALLOCATION_FIELDS
) -> dict[str, int]:
    """The optional `fiscal_year` + `allocation` form fields (AllocationError when malformed,
    naming them by `fields`: {"year"/"allocation": (Indonesian, English)})."""
    year, text = request.form.get("fiscal_year"), request.form.get("allocation")
    if not year and not text:
        return {}
    (year_id, year_en), (alloc_id, alloc_en) = fields["year"], fields["allocation"]
    if not text:
        raise AllocationError(
            f"{year_id} diisi tanpa {alloc_id}: tulis mis. jkk=24.000.000,jkm=30.000.000",
            f"{year_en} was sent without {alloc_en}: write e.g. jkk=24.000.000,jkm=30.000.000",
        )
    if not (year and year.strip().isdigit() and 2000 <= int(year) <= 2100):
        raise AllocationError(
            f"{alloc_id} perlu {year_id}, tahun anggaran 2000-2100 (mis. 2025)",
            f"{alloc_en} needs {year_en}, a fiscal year from 2000 to 2100 (e.g. 2025)",
        )
    if agency.kind == "ministry":
        raise AllocationError(
            "alokasi APBD hanya untuk pemerintah daerah",
            "an APBD allocation is only for a regional government",
        )
    return parse_allocation(text)


def _allocation_error(exc: AllocationError) -> Response:
    return api_error(400, "allocation_invalid", exc.message_id, exc.message_en)


@bp.post("/agencies/<code>/rosters/check")
@require_key
def check(code: str) -> Any:
    agency, error = _agency_or_error(code)
    if error:
        return error
    path, filename, error = _spooled_upload()
    if error:
        return error
    try:
        _declared_allocation(agency)  # what the submit would refuse, the check refuses too
        report = check_roster(path, agency=agency, today=clock.today(), filename=filename)
    except AllocationError as exc:
        return _allocation_error(exc)
    finally:
        path.unlink(missing_ok=True)
    return jsonify(report.as_dict())


# Flask's int converter takes any length; the databases' integers stop here.
MAX_ID = 2**63 - 1


def _own_run(run_id: int) -> tuple[dict | None, Any]:
    run = gateway().registry.get_run(run_id) if run_id <= MAX_ID else None
    if run is None:
        return None, api_error(404, "run_not_found", "Run tidak ditemukan.", "No such run.")
    if run["agency"] != g.agency:
        return None, forbidden_agency()
    return run, None


@bp.get("/runs")
@require_key
def list_runs() -> Any:
    limit = _number_arg("limit", int, 1, 500)
    if isinstance(limit, Response):
        return limit
    before = _number_arg("before", int, 1, MAX_ID)
    if isinstance(before, Response):
        return before
    runs = gateway().registry.list_runs(agency=g.agency, limit=limit or 50, before_id=before)
    return jsonify({"runs": [run_json(r) for r in runs]})


@bp.get("/runs/<int:run_id>")
@require_key
def get_run(run_id: int) -> Any:
    run, error = _own_run(run_id)
    if error:
        return error
    report = stored_report(gateway().registry, run, replayed=False).as_dict()
    return jsonify({**report, "run": run_json(run)})


@bp.get("/workers/<nik>")
@require_key
def find_worker(nik: str) -> Any:
    found = gateway().registry.find_worker(normalize_nik(nik))
    # An agency sees only its own enrollments; a worker it never enrolled is "not found",
    # so a key cannot be used to probe which NIKs other agencies hold.
    if found is not None:
        found["enrollments"] = [e for e in found["enrollments"] if e["agency"] == g.agency]
    if not found or not found["enrollments"]:
        return api_error(
            404,
            "worker_not_found",
            "Pekerja dengan NIK ini tidak terdaftar di instansi Anda.",
            "No worker with this NIK is enrolled by your agency.",
        )
    return jsonify(found)


@bp.get("/budget/<government>/<int:year>")
@require_key
def budget_check(government: str, year: int) -> Any:
    agency, error = _agency_or_error(government)
    if error:
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
    minimum = _number_arg("what_if_min_wage", int, 1, 1_000_000_000, "what_if_invalid")
    if isinstance(minimum, Response):
        return minimum
    raise_pct = _number_arg("what_if_raise", float, 0, 1000, "what_if_invalid")
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
    if scenario is not None:
        body["what_if"] = scenario.as_dict()
    return jsonify(body)


def _number_arg(
    name: str, kind: type, low: float, high: float, code: str = "query_invalid"
) -> Any:
    """A numeric query parameter: its number, None when absent, or a 400 response. (Flask's
    `type=int` turned "abc" into the default: the answer ignored what had been asked.)"""
    text = request.args.get(name)
    if text is None or text.strip() == "":
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # NaN fails the comparison too
        # Whole numbers as whole numbers: "1 to 1000000000", never "1e+09".
        lo, hi = (f"{int(b)}" if kind is int else f"{b:g}" for b in (low, high))
        return api_error(
            400,
            code,
            f"{name} harus berupa angka dari {lo} sampai {hi}.",
            f"{name} must be a number from {lo} to {hi}.",
        )
    return value


@bp.get("/coverage")
@require_key
def coverage_report() -> Any:
    # Aggregate counts only, no PII: every agency may see how far everyone is.
    return jsonify(coverage(gateway().registry.engine, load_targets()))


@bp.get("/receipt-key")
def receipt_key() -> Any:
    """Public: anyone holding a receipt checks it against this key."""
    signer = gateway().signer
    return jsonify({"key_id": signer.key_id, "algorithm": "Ed25519",
                    "public_key_pem": public_pem(signer.public)})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())
