"""Runs: the list, one run's detail with its problems, and the problems as CSV.

Problems are paged by keyset on (row, id) over the (run_id, row) index, so page 500 of a run
with a million problems costs what page 1 costs. The CSV is streamed in chunks the same way.
A user bound to one agency lists only its runs; another agency's run is not found (404).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Response, abort, render_template, request, session, stream_with_context, url_for

from gateway.clock import aware
from gateway.roster.report import CODE, FIELD, MESSAGE, ROW, SEVERITY, field_name, status_text
from gateway.runtime import gateway
from gateway.store import dashboard
from gateway.web.auth import current_user, login_required, readable_or_404, scope
from gateway.web.blueprint import bp
from gateway.web.data import MAX_SQL_INT, cache, id_arg

PAGE = 100
RUNS_PAGE = 50
CSV_CHUNK = 5000
RUN_STATUSES = ("succeeded", "rejected", "failed", "running")


def _engine() -> Any:
    return gateway().registry.engine


@bp.get("/runs")
@login_required
def runs_list() -> Any:
    # A bound user's list is its agency's, whatever the filter asks.
    bound = scope()
    agency, source = bound or request.args.get("agency"), request.args.get("source")
    status = request.args.get("status")
    rows = dashboard.list_runs(
        _engine(), agency=agency, source=source,
        status=status if status in RUN_STATUSES else None, before=id_arg("before"),
        limit=RUNS_PAGE + 1,
    )
    return render_template(
        "runs.html", runs=rows[:RUNS_PAGE], more=len(rows) > RUNS_PAGE, agency=agency,
        source=source, status=status, statuses=RUN_STATUSES, status_text=status_text,
        # The filter offers the agencies and sources that have runs: no code to know by heart.
        choices=dashboard.run_filter_choices(_engine(), bound),
    )


def _filters() -> dict[str, str]:
    out = {}
    for key in ("code", "field", "severity"):
        value = request.args.get(key)
        if value:
            out[key] = value
    return out


def _after(after: str | None) -> tuple[int, int] | None:
    """The keyset of a problems page: rows after (row, id), written "row.id" in the link."""
    if not after:
        return None
    try:
        row, pid = (int(x) for x in after.split(".", 1))
    except ValueError:
        abort(400)
    if not (0 <= row <= MAX_SQL_INT and 0 <= pid <= MAX_SQL_INT):
        abort(400)
    return row, pid


def _may_read(run: dict[str, Any]) -> bool:
    """Staff read the runs of their scope (every run nationally); a submitter reads the runs
    it sent from this browser session (the upload page remembers them), nothing else."""
    user = current_user()
    return (user is not None and user.may_read(run["agency"])) or (
        run["id"] in session.get("submitted_runs", [])
    )


def _problem_counts(run_id: int) -> list[Any]:
    """Problems by code, field and severity: a pass over all of the run's problems, so it is
    kept per process; a finished run's problems never change."""
    return dashboard.problem_counts(_engine(), run_id)


@bp.get("/runs/<int:run_id>")
@login_required
def run_detail(run_id: int) -> Any:
    run = gateway().registry.get_run(run_id) if run_id <= MAX_SQL_INT else None
    if run is None:
        abort(404)
    readable_or_404(run["agency"])
    filters = _filters()
    done = run["status"] != "running"  # a running run's problems are still coming
    by_code = cache().get(("problem_counts", run_id), lambda: _problem_counts(run_id),
                          stamp=run["status"], ttl=None if done else 5.0)
    page = dashboard.problem_page(_engine(), run_id, filters, _after(request.args.get("after")),
                                  PAGE + 1)
    more = len(page) > PAGE
    page = page[:PAGE]
    started, finished = aware(run["started_at"]), aware(run["finished_at"])
    next_link = None
    if more:
        last = page[-1]
        next_link = url_for("web.run_detail", run_id=run_id, after=f"{last['row']}.{last['id']}",
                            **filters)
    return render_template(
        "run.html", run=run, problems=page, by_code=by_code, filters=filters,
        next_link=next_link, first_page=not request.args.get("after"),
        duration=(finished - started).total_seconds() if started and finished else None,
        fields=sorted({f or "-" for _, f, _, _ in by_code}),
        codes=sorted({c for c, _, _, _ in by_code}), status_text=status_text,
        labels={"row": ROW, "field": FIELD, "code": CODE, "message": MESSAGE},
        severity=SEVERITY,
    )


@bp.get("/runs/<int:run_id>/problems.csv")
def problems_csv(run_id: int) -> Any:
    """The run's problems for the submitter to fix the file and send it again: one line per
    problem with the spreadsheet's own row number, the field, the code and both messages.

    The gateway keeps no roster file (PII at rest is only the encrypted registry), so this
    lists what to fix, not the rejected rows' values: the submitter has the file itself.
    Semicolon-separated with a BOM: what Excel opens correctly in an Indonesian locale.
    """
    run = gateway().registry.get_run(run_id) if run_id <= MAX_SQL_INT else None
    if run is None:
        abort(404)
    if not _may_read(run):
        abort(404 if current_user() is not None else 403)  # a bound user: as if not there
    filters = _filters()
    engine = _engine()

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        out = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        out.writerow(["baris/row", "kolom/field", "kode/code", "tingkat/severity",
                      "pesan", "message"])
        yield "\ufeff" + buf.getvalue()
        after = None
        while True:
            chunk = dashboard.problem_page(engine, run_id, filters, after, CSV_CHUNK)
            if not chunk:
                return
            buf.seek(0)
            buf.truncate()
            for p in chunk:
                out.writerow([p["row"], field_name(p["field"]).id if p["field"] else "",
                              p["code"], p["severity"],
                              p["message_id"], p["message_en"]])
            yield buf.getvalue()
            after = (chunk[-1]["row"], chunk[-1]["id"])

    name = f"masalah_run_{run_id}.csv"
    return Response(
        stream_with_context(lines()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
