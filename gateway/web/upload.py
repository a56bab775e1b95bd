"""The roster upload page for regional submitters.

A submitter signs with the agency's API key (a form field), not a staff login: the key decides
the agency, as in the JSON API. The report is printed with the CLI's words
(gateway/roster/report.py). The runs a browser session submitted are remembered in its session
so that it may download their problems, and nothing else.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from flask import render_template, request, session
from werkzeug.exceptions import RequestEntityTooLarge

from gateway import clock
from gateway.api import _declared_allocation, _spooled_upload
from gateway.budget.allocation import AllocationError, declare_allocation
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.roster import report as report_text
from gateway.roster.read.errors import RosterFileError
from gateway.roster.run import RosterReport, RunFailed, check_roster, submit_roster
from gateway.runtime import gateway
from gateway.web.blueprint import bp
from gateway.web.i18n import tr

REMEMBERED_RUNS = 20
# The allocation fields by the labels the form shows them with (the API's are field names).
FORM_ALLOCATION_FIELDS = {"year": ("Tahun anggaran", "Fiscal year"),
                          "allocation": ("Alokasi", "Allocation")}  # fmt: skip
SHOWN_PROBLEMS = 200  # as many as the CLI prints; the rest are in the CSV


def _form(error: str | None = None, status: int = 200, **context: Any) -> Any:
    return render_template("upload.html", error=error, rt=report_text,
                           shown_problems=SHOWN_PROBLEMS, **context), status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: Exception) -> Any:
    limit = gateway().config["MAX_UPLOAD_MB"]
    refused = RosterFileError.from_catalog("file_too_large", limit=limit)
    return _form(tr(refused.message_id, refused.message_en), 413)


def receipt_data_uri(receipt: dict[str, Any]) -> str:
    """The signed receipt as a file the submitter downloads and keeps (no NIK, no name)."""
    data = base64.b64encode(json.dumps(receipt, indent=2, ensure_ascii=False).encode()).decode()
    return f"data:application/json;base64,{data}"


def _problems_data_uri(report: RosterReport) -> str:
    """A checked (not submitted) roster is not recorded, so its problems cannot be fetched
    later: they travel in the page itself. Problems hold no NIK and no name."""
    buf = io.StringIO()
    out = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    out.writerow(["baris/row", "kolom/field", "kode/code", "tingkat/severity", "pesan",
                  "message"])
    for p in report.problems:
        out.writerow([p["row"], p["field"] or "", p["code"], p["severity"], p["message_id"],
                      p["message_en"]])
    data = base64.b64encode(("\ufeff" + buf.getvalue()).encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{data}"


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> Any:
    if request.method == "GET":
        return _form()
    token = request.form.get("api_key", "").strip()
    key = gateway().registry.authenticate(token) if token else None
    if key is None:
        return _form(tr("Kunci API tidak ada atau tidak valid.", "Missing or invalid API key."),
                     401)
    try:
        agency = resolve_agency(key.agency)
    except UnknownAgency:
        return _form(tr("Instansi kunci ini tidak dikenal.", "This key's agency is unknown."),
                     403)
    path, filename, missing = _spooled_upload()
    if missing is not None or path is None:
        return _form(tr("Lampirkan berkas roster (CSV atau XLSX).",
                        "Attach the roster file (CSV or XLSX)."), 400)
    mode = "check" if request.form.get("action") == "check" else "submit"
    declared: dict[str, Any] | None = None
    try:
        try:  # a check refuses what the submit would refuse
            amounts = _declared_allocation(agency, FORM_ALLOCATION_FIELDS)
        except AllocationError as exc:
            # The section stays open with what was typed, to be corrected.
            return _form(tr(exc.message_id, exc.message_en), 400, allocation_form=request.form)
        config = gateway().config
        if mode == "check":
            report = check_roster(path, agency=agency, today=clock.today(), filename=filename,
                                  batch_size=config["BATCH_SIZE"])
        else:
            try:
                report = submit_roster(gateway().registry, path, agency=agency,
                                       today=clock.today(), trigger="web", filename=filename,
                                       batch_size=config["BATCH_SIZE"])
            except RunFailed as exc:
                report = exc.report
            if report.run_id is not None:
                remembered = [r for r in session.get("submitted_runs", []) if r != report.run_id]
                session["submitted_runs"] = [*remembered, report.run_id][-REMEMBERED_RUNS:]
            if amounts and report.status == "succeeded":
                year = int(request.form["fiscal_year"])
                declare_allocation(gateway().registry.engine, agency.code, year, amounts,
                                   report.run_id)
                declared = {"fiscal_year": year, "amounts": amounts}
            elif amounts:
                declared = {"not_recorded": True}
    finally:
        path.unlink(missing_ok=True)
    codes: dict[str, int] = {}
    for p in report.problems:
        codes[p["code"]] = codes.get(p["code"], 0) + 1
    return _form(
        None, 201 if mode == "submit" and report.status == "succeeded" and not report.replayed
        else 200,
        report=report, agency=agency, filename=filename, mode=mode, declared=declared,
        codes=sorted(codes.items(), key=lambda kv: -kv[1]),
        check_csv=_problems_data_uri(report) if mode == "check" and report.problems else None,
        receipt_uri=receipt_data_uri(report.receipt) if report.receipt else None,
    )
