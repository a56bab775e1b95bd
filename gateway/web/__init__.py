"""The compliance dashboard: a server-rendered Flask blueprint under /dashboard.

Pages: overview (feed health, budget gaps, coverage at a glance), runs and their problems,
an agency's workers (PII masked), budget, coverage, and the roster upload page for regional
submitters (who sign with their agency's API key, not a staff login). Charts are SVG drawn on
the server (charts.py): nothing is fetched from the internet.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import make_response, request

from gateway.web.blueprint import bp

__all__ = ["bp", "unrouted"]


@bp.context_processor
def _helpers() -> dict[str, Any]:
    from gateway.web.auth import csrf_token, current_user
    from gateway.web.charts import sparkline
    from gateway.web.data import agency_name
    from gateway.web.i18n import schedule_text, template_helpers

    return {**template_helpers(), "csrf_token": csrf_token, "user": current_user(),
            "lang_url": _lang_url, "agency_name": agency_name, "sparkline": sparkline,
            "schedule_text": schedule_text}


def _lang_url(lang: str) -> str:
    """This page in another language: the same path and query, `lang` replaced."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return f"{request.path}?{urlencode({**args, 'lang': lang})}"


@bp.after_request
def _headers(response: Any) -> Any:
    # Pages show masked PII and reports: never cached by a shared browser, never framed.
    if request.endpoint != "web.static":
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


# Views register themselves on `bp` when imported.
from gateway.web import (  # noqa: E402, F401
    auth,
    conflicts,
    delivery,
    delivery_files,
    list_exports,
    pages,
    reconcile,
    runs_pages,
    upload,
    verification,
    worker_search,
)

_ERRORS = {
    400: ("Permintaan tidak valid. Jika Anda mengirim formulir, muat ulang halaman lalu coba "
          "lagi.", "Bad request. If you sent a form, reload the page and try again."),
    403: ("Anda tidak berhak membuka halaman ini.", "You may not open this page."),
    404: ("Halaman tidak ditemukan.", "Page not found."),
}


@bp.errorhandler(400)
@bp.errorhandler(403)
@bp.errorhandler(404)
def _error(exc: Any) -> Any:
    return _error_page(exc)


def unrouted(exc: Any) -> Any:
    """An unknown path under /dashboard, or a method it does not take (app.py routes it
    here): the dashboard's own page in the page's language, not Flask's bare English one. No
    view of the blueprint ran, so its template helpers and headers are given here."""
    page, code = _error_page(exc, **_helpers())
    return _headers(make_response(page, code))


def _error_page(exc: Any, **context: Any) -> tuple[str, int]:
    from flask import render_template

    from gateway.web.i18n import tr

    code = getattr(exc, "code", 400) or 400
    message = tr(*_ERRORS.get(code, _ERRORS[400]))
    return render_template("error.html", code=code, message=message, **context), code
