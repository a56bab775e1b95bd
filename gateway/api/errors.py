"""JSON error responses, always in both languages."""

from __future__ import annotations

from flask import Response, jsonify


def api_error(
    status: int, code: str, message_id: str, message_en: str, **extra: object
) -> Response:
    response = jsonify({"error": code, "message_id": message_id, "message_en": message_en, **extra})
    response.status_code = status
    return response
