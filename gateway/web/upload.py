"""The roster upload page for regional submitters.

A submitter signs with the agency's API key (a form field), not a staff login: the key decides
the agency, as in the JSON API, and the roster goes through the same intake
(gateway/roster/intake.py). The report is printed with the CLI's words
(gateway/roster/report.py). The runs a browser session submitted are remembered in its session
so that it may follow them and download their problems, and nothing else.

A submission is applied in the background (gateway/roster/queue.py) like the API's: the page
waits on the run's own page, showing progress. Before submitting, the page's script asks for
a check and, when the file would end more than ENDING_CONFIRM_SHARE of the agency's active
workers, shows that number and a sample and submits only once the clerk confirms it (the
server refuses an unconfirmed one anyway). Enter in a field never submits.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

from flask import abort, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.budget.allocation import (
    AllocationError,
    Declaration,
    FieldNames,
    allocation_coverage,
    read_declaration,
)
from gateway.domain.agencies import Agency, UnknownAgency, resolve_agency
from gateway.roster import intake
from gateway.roster import report as roster_report
from gateway.roster.read.errors import RosterFileError
from gateway.roster.run import RosterReport, stored_report
from gateway.roster.uploads import read_progress, upload_folder
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
        field = roster_report.field_name(p["field"]).id if p["field"] else ""
        out.writerow([p["row"], field, p["code"], p["severity"], p["message_id"],
                      p["message_en"]])
    data = base64.b64encode(("\ufeff" + buf.getvalue()).encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{data}"


def _remember(run_id: int) -> None:
    remembered = [r for r in session.get("submitted_runs", []) if r != run_id]
    kept = session["submitted_runs"] = [*remembered, run_id][-REMEMBERED_RUNS:]
    for forgotten in set(remembered) - set(kept):  # the session cookie stays small
        session.pop(f"declared_{forgotten}", None)


def _declared(declaration: Declaration | None, submitted: intake.Submitted | None,
              replayed: bool) -> dict[str, Any] | None:  # fmt: skip
    if declaration is None:
        return None
    if submitted is not None and submitted.allocation_recorded:
        return {"fiscal_year": declaration.fiscal_year, "amounts": declaration.amounts,
                # a replay answers with the earlier run's receipt
                "on_receipt": not replayed,
                "check": submitted.allocation_check}  # fmt: skip
    return {"not_recorded": True}


def _report_page(report: RosterReport, *, agency: Agency, filename: str | None, mode: str,
                 declared: dict[str, Any] | None, status: int) -> Any:  # fmt: skip
    codes: dict[str, int] = {}
    for p in report.problems:
        codes[p["code"]] = codes.get(p["code"], 0) + 1
    return _form(
        None, status, report=report, agency=agency, filename=filename, mode=mode,
        declared=declared, codes=sorted(codes.items(), key=lambda kv: -kv[1]),
        check_csv=_problems_data_uri(report) if mode == "check" and report.problems else None,
        receipt_uri=receipt_data_uri(report.receipt) if report.receipt else None,
    )  # fmt: skip


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> Any:
    """GET: the form. POST: a check (answered here; `?format=json` for the page's own
    script, which asks how many workers a submit would end before it submits) or a submit,
    applied in the background: the browser is sent to the run's page, which waits."""
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
    confirm_text = request.form.get("confirm_endings", "").strip()
    confirm = int(confirm_text) if confirm_text.isdigit() and len(confirm_text) < 10 else None
    runtime = gateway()
    try:
        with intake.spooled(runtime, request.files.get("file")) as (spool, filename):
            # A check refuses what the submit would refuse.
            declaration = read_declaration(request.form.get("fiscal_year"),
                                           request.form.get("allocation"), agency=agency,
                                           names=FORM_ALLOCATION_FIELDS)  # fmt: skip
            if mode == "check":
                report = intake.check(runtime, spool, agency=agency, filename=filename)
                if request.args.get("format") == "json":
                    said = roster_report.endings_text(report.endings) if report.endings else None
                    return jsonify({**report.as_dict(),
                                    "endings_text": tr(said.id, said.en) if said else None})
                return _report_page(report, agency=agency, filename=filename, mode=mode,
                                    declared=None, status=200)  # fmt: skip
            started = intake.begin(runtime, spool, agency=agency, trigger="web",
                                   filename=filename, actor=key.actor)  # fmt: skip
            if started.replay is None:
                assert started.run_id is not None
                intake.submit_later(runtime, started, spool, agency=agency, filename=filename,
                                    declaration=declaration, confirm_endings=confirm)  # fmt: skip
                _remember(started.run_id)
                if declaration is not None:
                    session[f"declared_{started.run_id}"] = [declaration.fiscal_year,
                                                             declaration.amounts]  # fmt: skip
                return redirect(url_for("web.upload_run", run_id=started.run_id), 303)
            submitted = intake.complete(runtime, started, spool, agency=agency,
                                        filename=filename, declaration=declaration)  # fmt: skip
    except intake.UploadMissing:
        return _form(tr("Lampirkan berkas roster (CSV atau XLSX).",
                        "Attach the roster file (CSV or XLSX)."), 400)
    except AllocationError as exc:
        # The section stays open with what was typed, to be corrected.
        return _form(tr(exc.message_id, exc.message_en), 400, allocation_form=request.form)
    report = submitted.report
    if report.run_id is not None:
        _remember(report.run_id)
    return _report_page(report, agency=agency, filename=filename, mode=mode,
                        declared=_declared(declaration, submitted, report.replayed),
                        status=200)  # fmt: skip


def _own_upload(run_id: int) -> dict[str, Any]:
    """A run this browser session submitted (else 404: nothing said about other runs)."""
    if run_id not in session.get("submitted_runs", []):
        abort(404)
    run = gateway().registry.get_run(run_id)
    if run is None:
        abort(404)
    return run


@bp.get("/upload/runs/<int:run_id>")
def upload_run(run_id: int) -> Any:
    """A submitted upload: its progress while it is applied (the page polls
    `upload_run_status` and reloads when it is done), then its report."""
    run = _own_upload(run_id)
    agency = resolve_agency(run["agency"])
    folder = upload_folder(gateway().config["INSTANCE_PATH"])
    if run["status"] == "running":
        return _form(None, 202, pending=run, agency=agency, filename=run["filename"],
                     progress=read_progress(folder, run_id))  # fmt: skip
    report = stored_report(gateway().registry, run, replayed=False)
    declared = None
    if f"declared_{run_id}" in session:
        year, amounts = session[f"declared_{run_id}"]
        declared = ({"fiscal_year": year, "amounts": amounts, "on_receipt": True,
                     "check": allocation_coverage(gateway().registry.engine, run["agency"], year)}
                    if report.status == "succeeded" else {"not_recorded": True})  # fmt: skip
    return _report_page(report, agency=agency, filename=run["filename"], mode="submit",
                        declared=declared,
                        status=201 if report.status == "succeeded" else 200)  # fmt: skip


@bp.get("/upload/runs/<int:run_id>/status")
def upload_run_status(run_id: int) -> Any:
    run = _own_upload(run_id)
    folder = upload_folder(gateway().config["INSTANCE_PATH"])
    return jsonify(status=run["status"], **read_progress(folder, run_id))
