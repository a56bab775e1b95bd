"""Identity conflicts (issue 16): a roster claimed, for a worker another agency enrolls,
another name, birth date or gender than the registry holds (store/identity.py). The shared
identity was left as it was; compliance staff see here who claims what, masked, and settle it
with the agencies. An agency settles its side by sending the registered identity again.

National view only: a conflict names the other agencies enrolling the worker, which a user
bound to one agency must not learn (docs/design.md §7), so for such a user the page does not
exist (404, as for other agencies' pages).
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request

from gateway.runtime import gateway
from gateway.store.identity import conflict_count, conflict_page
from gateway.web.auth import current_user, login_required
from gateway.web.blueprint import bp
from gateway.web.data import id_arg
from gateway.web.masking import mask_name, mask_nik

PAGE = 50


def _national() -> bool:
    user = current_user()
    return user is not None and user.agency is None


@bp.app_template_global()
def open_identity_conflicts() -> int | None:
    """For the overview's link: open conflicts, or None for a user who may not see them."""
    if not _national():
        return None
    return conflict_count(gateway().registry.engine)


@bp.get("/identity-conflicts")
@login_required
def identity_conflicts() -> Any:
    if not _national():
        abort(404)
    resolved = request.args.get("state") == "resolved"
    agency = (request.args.get("agency") or "").strip()[:32] or None
    engine, ring = gateway().registry.engine, gateway().registry.keyring
    rows = conflict_page(engine, resolved=resolved, agency=agency, before=id_arg("before"),
                         limit=PAGE + 1)  # fmt: skip
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    for r in rows:  # only the rows shown are decrypted, and only to be masked
        r["nik"] = mask_nik(ring.decrypt(r.pop("nik_enc"), "workers.nik"))
        r["name"] = mask_name(ring.decrypt(r.pop("name_enc"), "workers.name"))
    return render_template(
        "identity_conflicts.html", rows=rows, more=more, resolved=resolved, agency=agency,
        open_count=conflict_count(engine), resolved_count=conflict_count(engine, resolved=True),
    )  # fmt: skip
