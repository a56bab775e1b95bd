"""The JSON API under /api/v1: roster submissions, their reports, runs and worker lookup.

One module per resource registers its routes on the blueprint (`blueprint.py`): rosters.py
(upload and check, through gateway/roster/intake.py), runs.py, workers.py, conflicts.py
(identity conflicts), budget.py (budget check and coverage), delivery.py (employers,
mutations to BPJS), reconcile.py (BPJS's facts against the registry) and verification.py.
This module adds what every route shares: the answers to a database or key fault and to an
upload over the limit, the no-store header, and the two public routes (the receipt key and
the OpenAPI document).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from gateway.api import (
    budget,
    conflicts,
    delivery,
    reconcile,
    rosters,
    runs,
    verification,
    workers,
)
from gateway.api.blueprint import bp
from gateway.api.errors import api_error
from gateway.api.openapi import openapi_document
from gateway.roster.read.errors import RosterFileError
from gateway.runtime import gateway
from gateway.security.crypto import KeyRingError
from gateway.security.receipts import public_pem
from gateway.store.errors import DatabaseUnavailable

__all__ = ["bp", "budget", "conflicts", "delivery", "reconcile", "rosters", "runs", "unrouted",
           "verification", "workers"]  # fmt: skip


@bp.after_request
def _never_cached(response: Response) -> Response:
    # Answers carry reports and, for a worker lookup, a full name and birth date: never kept
    # by a browser or a proxy in between.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def unrouted(exc: HTTPException) -> Any:
    """An unknown path under /api/, or a method a path does not take, answered in JSON like
    every other API error (app.py routes it here: routing fails before any API view runs, so
    the blueprint's own handlers never see it). The path is not repeated: it may hold a NIK
    (/workers/{nik})."""
    if isinstance(exc, MethodNotAllowed):
        response = api_error(
            405,
            "method_not_allowed",
            f"Metode {request.method} tidak tersedia untuk rute ini.",
            f"{request.method} is not allowed on this route.",
            allowed=sorted(exc.valid_methods or ()),
        )
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods or ()))
        return response
    return api_error(
        404,
        "not_found",
        "Rute ini tidak ada di API; daftar rute ada di /api/v1/openapi.json.",
        "There is no such route in this API; the routes are listed at /api/v1/openapi.json.",
    )


@bp.errorhandler(DatabaseUnavailable)
def database_unavailable(exc: DatabaseUnavailable) -> Any:
    """The database is locked past the busy timeout, or unreachable: nothing was written (a
    run cannot even be recorded), so the client is told to retry, in JSON, not an HTML 500."""
    current_app.logger.warning("database unavailable: %s", exc.orig)
    response = api_error(
        503,
        "database_unavailable",
        "Basis data sedang sibuk atau tidak dapat dihubungi; tidak ada yang diterapkan. "
        "Kirim ulang berkas yang sama dalam beberapa menit.",
        "The database is busy or unreachable; nothing was applied. Send the same file again "
        "in a few minutes.",
    )
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(KeyRingError)
def keys_do_not_open_the_data(exc: KeyRingError) -> Any:
    """Stored values under a key this process lacks (rotated by `jamsos keys rotate` with a
    new key not yet given to this gateway): a configuration fault, answered in JSON."""
    current_app.logger.error("keys do not open the stored data: %s", exc)
    return api_error(
        503,
        "keys_misconfigured",
        "Kunci enkripsi gateway ini tidak dapat membuka data tersimpan; hubungi operator. "
        "Tidak ada yang diterapkan.",
        "This gateway's encryption keys do not open the stored data; contact the operator. "
        "Nothing was applied.",
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: Exception) -> Any:
    limit = gateway().config["MAX_UPLOAD_MB"]
    refused = RosterFileError.from_catalog("file_too_large", limit=limit)
    return api_error(413, refused.code, refused.message_id, refused.message_en, limit_mb=limit)


@bp.get("/receipt-key")
def receipt_key() -> Any:
    """Public: anyone holding a receipt checks it against this key."""
    signer = gateway().signer
    return jsonify({"key_id": signer.key_id, "algorithm": "Ed25519",
                    "public_key_pem": public_pem(signer.public)})


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())
