"""Identity verification on the dashboard (issue 19, docs/verification.md): a run's and an
agency's verification problems, by spreadsheet row, with what to do (partials included by
run.html and agency.html), and the counts per agency for compliance staff
(/dashboard/verification). NIK and name masked, as everywhere on the dashboard.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from gateway.runtime import gateway
from gateway.store.verification import any_verdicts, names_of
from gateway.verify.report import (
    agency_verification,
    compliance_counts,
    pass_state,
    run_verification,
)
from gateway.verify.settings import verification_settings
from gateway.verify.words import ELEMENT_LABELS
from gateway.web.auth import login_required, may_read, scope
from gateway.web.blueprint import bp
from gateway.web.i18n import tr
from gateway.web.masking import mask_name

OUTCOME_LABELS = {
    "match": ("sesuai", "match"),
    "mismatch": ("tidak sesuai", "mismatch"),
    "not_found": ("tidak ditemukan", "not found"),
    "deceased": ("meninggal", "deceased"),
    "inactive": ("tidak aktif", "inactive"),
    "several": ("data ganda", "several records"),
    "unprocessable": ("tidak dapat diproses", "unprocessable"),
    "pending": ("menunggu", "pending"),
}
SHOWN = 100  # problems listed on a page; the API and `jamsos verify problems` give them all


def _with_names(body: dict[str, Any]) -> dict[str, Any]:
    """Masked names beside the masked NIKs: the clerk recognises the person."""
    registry = gateway().registry
    names = names_of(registry.engine, [p["worker_id"] for p in body["problems"]])
    for p in body["problems"]:
        enc = names.get(p["worker_id"])
        p["name"] = mask_name(registry.keyring.decrypt(enc, "workers.name")) if enc else ""
    return body


@bp.app_template_global()
def verification_outcome(outcome: str) -> str:
    words = OUTCOME_LABELS.get(outcome, (outcome, outcome))
    return tr(*words)


@bp.app_template_global()
def verification_element(element: str) -> str:
    words = ELEMENT_LABELS.get(element)
    return tr(words.id, words.en) if words else element


def _configured() -> bool:
    return verification_settings(gateway().config).enabled


def _shown(engine: Any) -> bool:
    """Verification has something to say: configured, or answers kept from when it was (a
    gateway without it pays one indexed read, not a join over the run's history)."""
    return _configured() or any_verdicts(engine)


@bp.app_template_global()
def verification_of_run(run_id: int) -> dict[str, Any] | None:
    """The run's verification for run.html; None where there is nothing to say."""
    registry = gateway().registry
    if not _shown(registry.engine):
        return None
    body = run_verification(registry.engine, registry.keyring, run_id)
    if not body["counts"]["total"]:
        return None
    body["problems"] = body["problems"][:SHOWN]
    return _with_names(body)


@bp.app_template_global()
def verification_of_agency(code: str) -> dict[str, Any] | None:
    """The agency's verification for agency.html; None where there is nothing to say."""
    registry = gateway().registry
    if not _shown(registry.engine):
        return None
    body = agency_verification(registry.engine, registry.keyring, code, limit=SHOWN)
    body["state"] = pass_state(registry.engine)
    return _with_names(body)


@bp.get("/verification")
@login_required
def verification_page() -> Any:
    engine = gateway().registry.engine
    rows = [r for r in compliance_counts(engine, scope()) if may_read(r["agency"])]
    return render_template("verification.html", rows=rows, state=pass_state(engine),
                           configured=_configured())  # fmt: skip
