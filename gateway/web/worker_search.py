"""Find a worker by NIK across agencies (issue 21): which agencies enroll them, since when, at
what wage, for staff (compliance viewers and operators, docs/design.md §7).

A user bound to one agency (issue 16) sees only its own agency's enrollment of the worker;
a worker it does not enroll is "not found", as the API's lookup answers an agency's key, so
the page cannot be used to learn which NIKs other agencies hold. The NIK is posted in the
form, never put in a URL (access logs keep URLs), and is shown back only masked; the name
is masked; the birth date is not shown (the masked NIK hides it on purpose). Each search is
written to the audit log (store/lookups.py), without the NIK.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from gateway.domain.nik import normalize_nik
from gateway.runtime import gateway
from gateway.store.lookups import record_worker_lookup
from gateway.web.auth import current_user, login_required, may_read, scope
from gateway.web.blueprint import bp
from gateway.web.i18n import tr
from gateway.web.masking import mask_name


@bp.route("/workers", methods=["GET", "POST"])
@login_required
def worker_search() -> Any:
    if request.method != "POST":
        return render_template("worker_search.html", result=None, error=None)
    nik = normalize_nik(request.form.get("nik", ""))
    if len(nik) != 16 or not (nik.isascii() and nik.isdigit()):
        # Not echoed back: a mistyped NIK is still a NIK.
        error = tr("NIK terdiri dari 16 angka. Periksa lalu coba lagi.",
                   "A NIK is 16 digits. Check it and try again.")
        return render_template("worker_search.html", result=None, error=error), 400
    found = gateway().registry.find_worker(nik)
    shown = [e for e in (found or {}).get("enrollments", []) if may_read(e["agency"])]
    user = current_user()
    record_worker_lookup(gateway().registry.engine, username=user.username,  # type: ignore[union-attr]
                         scope=scope(), agencies_shown=len({e["agency"] for e in shown}))
    if not found or not shown:
        return render_template("worker_search.html", result={"found": False}, error=None)
    result = {
        "found": True,
        "nik": found["nik"],  # masked by the registry's lookup
        "name": mask_name(found["name"]),
        "gender": found["gender"],
        "enrollments": [{**e, "last_change": e["history"][-1] if e["history"] else None}
                        for e in shown],
    }
    return render_template("worker_search.html", result=result, error=None)
