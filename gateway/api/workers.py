"""GET /workers/{nik}: a worker the key's agency enrolled, and only its own enrollments."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify

from gateway.api.auth import require_key
from gateway.api.blueprint import bp
from gateway.api.errors import api_error
from gateway.domain.nik import normalize_nik
from gateway.runtime import gateway


@bp.get("/workers/<nik>")
@require_key
def find_worker(nik: str) -> Any:
    found = gateway().registry.find_worker(normalize_nik(nik))
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
