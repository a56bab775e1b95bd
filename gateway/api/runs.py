"""GET /runs and /runs/{id}: an agency's own runs and their reports."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from gateway.api.auth import forbidden_agency, require_key
from gateway.api.blueprint import MAX_ID, bp, page_args
from gateway.api.errors import api_error
from gateway.budget.allocation import allocation_coverage
from gateway.roster.report import allocation_outcome
from gateway.roster.run import stored_report
from gateway.runtime import gateway
from gateway.store.runs import run_json


def _own_run(run_id: int) -> tuple[dict | None, Response | None]:
    run = gateway().registry.get_run(run_id) if run_id <= MAX_ID else None
    if run is None:
        return None, api_error(404, "run_not_found", "Run tidak ditemukan.", "No such run.")
    if run["agency"] != g.agency:
        return None, forbidden_agency()
    return run, None


@bp.get("/runs")
@require_key
def list_runs() -> Any:
    paging = page_args()
    if isinstance(paging, Response):
        return paging
    limit, before = paging
    runs = gateway().registry.list_runs(agency=g.agency, limit=limit or 50, before_id=before)
    return jsonify({"runs": [run_json(r) for r in runs]})


@bp.get("/runs/<int:run_id>")
@require_key
def get_run(run_id: int) -> Any:
    run, error = _own_run(run_id)
    if error or run is None:
        return error
    report = stored_report(gateway().registry, run, replayed=False).as_dict()
    # An allocation declared with the run: does it cover the year, as the registry is now?
    declared = (report.get("receipt") or {}).get("declared_allocation")
    if declared and run["status"] == "succeeded":
        check = allocation_coverage(gateway().registry.engine, run["agency"],
                                    declared["fiscal_year"])  # fmt: skip
        if check is not None:
            report["allocation_check"] = allocation_outcome(check)
    return jsonify({**report, "run": run_json(run)})
