"""API-key authentication: every key is scoped to one agency."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from gateway.api.errors import api_error
from gateway.runtime import gateway


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def require_key(view: Callable[..., Any]) -> Callable[..., Any]:
    """401 without a valid key; the key's agency is `g.agency`."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = _token()
        key = gateway().registry.authenticate(token) if token else None
        if key is None:
            response = api_error(
                401,
                "unauthorized",
                "Kunci API tidak ada atau tidak valid.",
                "Missing or invalid API key.",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="jamsos"'
            return response
        g.api_key = key
        g.agency = key.agency
        return view(*args, **kwargs)

    return wrapper


def forbidden_agency() -> Any:
    return api_error(
        403,
        "forbidden_agency",
        "Kunci API ini hanya untuk instansi lain.",
        "This API key belongs to another agency.",
    )
