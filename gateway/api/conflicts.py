"""GET /identity-conflicts: the rows of the key's agency whose identity differs from the one
another agency enrolled (store/identity.py), so its clerks can find and correct them.

Only the agency's own claims, and nothing of the other side: not which agency enrolls the
worker, nor the name it holds (an agency must not learn who else employs a person). The NIK
comes back masked; the agency's own run reports give the rows.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from gateway.api.auth import require_key
from gateway.api.blueprint import bp, page_args
from gateway.api.errors import api_error
from gateway.clock import aware
from gateway.domain.nik import mask_nik
from gateway.runtime import gateway
from gateway.store.identity import conflict_page

STATES = ("open", "resolved")


def _when(value: Any) -> str | None:
    moment = aware(value)
    return moment.isoformat() if moment is not None else None


@bp.get("/identity-conflicts")
@require_key
def list_identity_conflicts() -> Any:
    paging = page_args()
    if isinstance(paging, Response):
        return paging
    limit, before = paging
    state = request.args.get("state") or "open"
    if state not in STATES:
        return api_error(400, "query_invalid", "state harus open atau resolved.",
                         "state must be open or resolved.")  # fmt: skip
    registry = gateway().registry
    rows = conflict_page(registry.engine, resolved=state == "resolved", agency=g.agency,
                         before=before, limit=limit or 50)  # fmt: skip
    return jsonify({"conflicts": [
        {
            "id": r["id"],
            "nik": mask_nik(registry.keyring.decrypt(r["nik_enc"], "workers.nik")),
            "fields": list(r["fields"]),
            "first_run_id": r["first_run_id"],
            "last_run_id": r["last_run_id"],
            "detected_at": _when(r["detected_at"]),
            "last_seen_at": _when(r["last_seen_at"]),
            "resolved_at": _when(r["resolved_at"]),
        }
        for r in rows
    ]})  # fmt: skip
