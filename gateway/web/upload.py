"""The roster upload page for regional submitters.

A submitter signs with the agency's API key (a form field), not a staff login: the key decides
the agency, as in the JSON API, and the roster goes through the same intake
(gateway/roster/intake.py). The report is printed with the CLI's words
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

from gateway.budget.allocation import AllocationError, FieldNames, read_declaration
from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.roster import intake
from gateway.roster import report as roster_report
from gateway.roster.read.errors import RosterFileError
from gateway.roster.run import RosterReport
from gateway.runtime import gateway
from gateway.web.blueprint import bp
from gateway.web.i18n import tr

REMEMBERED_RUNS = 20
# The allocation fields by the labels the form shows them with (the API's are field names).
FORM_ALLOCATION_FIELDS: FieldNames = {"year": ("Tahun anggaran", "Fiscal year"),
                                      "allocation": ("Alokasi", "Allocation")}  # fmt: skip
SHOWN_PROBLEMS = 200  # as many as the CLI prints; the rest are in the CSV


def _form(error: str | None = None, status: int = 200, **context: Any) -> Any:
    return render_template("upload.html", error=error, rt=roster_report,
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
    mode = "check" if request.form.get("action") == "check" else "submit"
    declared: dict[str, Any] | None = None
    try:
        with intake.spooled(request.files.get("file")) as (path, filename):
            # A check refuses what the submit would refuse.
            declaration = read_declaration(request.form.get("fiscal_year"),
                                           request.form.get("allocation"), agency=agency,
                                           names=FORM_ALLOCATION_FIELDS)  # fmt: skip
            if mode == "check":
                report = intake.check(gateway(), path, agency=agency, filename=filename)
            else:
                submitted = intake.submit(gateway(), path, agency=agency, trigger="web",
                                          filename=filename, declaration=declaration)
                report = submitted.report
                if report.run_id is not None:
                    remembered = [r for r in session.get("submitted_runs", [])
                                  if r != report.run_id]  # fmt: skip
                    session["submitted_runs"] = [*remembered, report.run_id][-REMEMBERED_RUNS:]
                if declaration is not None and submitted.allocation_recorded:
                    declared = {"fiscal_year": declaration.fiscal_year,
                                "amounts": declaration.amounts,
                                # a replay answers with the earlier run's receipt
                                "on_receipt": not report.replayed}  # fmt: skip
                elif declaration is not None:
                    declared = {"not_recorded": True}
    except intake.UploadMissing:
        return _form(tr("Lampirkan berkas roster (CSV atau XLSX).",
                        "Attach the roster file (CSV or XLSX)."), 400)
    except AllocationError as exc:
        # The section stays open with what was typed, to be corrected.
        return _form(tr(exc.message_id, exc.message_en), 400, allocation_form=request.form)
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
