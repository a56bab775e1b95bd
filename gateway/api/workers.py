"""POST /workers/lookup: a worker the key's agency enrolled, and only its own enrollments.

The NIK travels in the JSON body, never in the URL: access logs (gunicorn's, a proxy's,
werkzeug's) keep every URL, also of refused requests. The old `GET /workers/{nik}` answers
410 Gone with a pointer here and looks nothing up.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from gateway.api.auth import require_key
from gateway.api.blueprint import bp
from gateway.api.errors import api_error
from gateway.domain.nik import normalize_nik
from gateway.runtime import gateway

LOOKUP_PATH = "/api/v1/workers/lookup"


@bp.post("/workers/lookup")
@require_key
def lookup_worker() -> Any:
    body = request.get_json(silent=True)
    nik = body.get("nik") if isinstance(body, dict) else None
    if not isinstance(nik, str) or not nik.strip():
        return api_error(
            400,
            "nik_missing",
            'Kirim NIK dalam badan JSON: {"nik": "..."}.',
            'Send the NIK in a JSON body: {"nik": "..."}.',
        )
    wanted = normalize_nik(nik)
    if len(wanted) != 16 or not (wanted.isascii() and wanted.isdigit()):
        # Never echoed back: a mistyped NIK is still a NIK.
        return api_error(400, "nik_invalid", "NIK terdiri dari 16 angka.", "A NIK is 16 digits.")
    found = gateway().registry.find_worker(wanted)
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


@bp.get("/workers/<nik>")
@require_key
def find_worker_gone(nik: str) -> Any:
    """Gone: a NIK in a URL ends up in access logs. Nothing is looked up."""
    del nik
    return api_error(
        410,
        "use_post_lookup",
        f"NIK tidak lagi dikirim dalam URL (tercatat di log akses). Gunakan POST {LOOKUP_PATH} "
        'dengan badan JSON {"nik": "..."}.',
        f"A NIK is no longer sent in the URL (access logs keep URLs). Use POST {LOOKUP_PATH} "
        'with the JSON body {"nik": "..."}.',
        lookup=LOOKUP_PATH,
    )
