"""The API's blueprint and what its routes share: the path's agency, a numeric query
parameter, the largest id a database holds. The routes are in one module per resource
(rosters.py, runs.py, workers.py, budget.py); `gateway/api/__init__.py` registers them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request

from gateway.api.auth import forbidden_agency
from gateway.api.errors import api_error
from gateway.domain.agencies import Agency, UnknownAgency, resolve_agency

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Flask's int converter takes any length; the databases' integers stop here.
MAX_ID = 2**63 - 1


def agency_or_error(code: str) -> tuple[Agency | None, Response | None]:
    """The path's agency, or the answer refusing it: 404 when unknown, 403 when the key
    belongs to another agency."""
    try:
        agency = resolve_agency(code)
    except UnknownAgency as exc:
        return None, api_error(404, "unknown_agency", exc.message_id, str(exc))
    if agency.code != g.agency:
        return None, forbidden_agency()
    return agency, None


def number_arg(
    name: str, kind: type, low: float, high: float, code: str = "query_invalid"
) -> Any:
    """A numeric query parameter: its number, None when absent, or a 400 response. (Flask's
    `type=int` turned "abc" into the default: the answer ignored what had been asked.)"""
    text = request.args.get(name)
    if text is None or text.strip() == "":
        return None
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # NaN fails the comparison too
        # Whole numbers as whole numbers: "1 to 1000000000", never "1e+09".
        lo, hi = (f"{int(b)}" if kind is int else f"{b:g}" for b in (low, high))
        return api_error(
            400,
            code,
            f"{name} harus berupa angka dari {lo} sampai {hi}.",
            f"{name} must be a number from {lo} to {hi}.",
        )
    return value


def page_args() -> tuple[int | None, int | None] | Response:
    """A list's paging parameters, `limit` (1-500) and `before` (an id): both, or a 400."""
    limit = number_arg("limit", int, 1, 500)
    if isinstance(limit, Response):
        return limit
    before = number_arg("before", int, 1, MAX_ID)
    if isinstance(before, Response):
        return before
    return limit, before
