"""Dashboard sessions: login, logout, the signing key of the session cookie, and CSRF.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax), holding the user id and the
CSRF token; nothing secret about the data. Every POST of the blueprint must carry the
session's token (a hidden form field), compared in constant time: SameSite alone does not
cover older browsers or a same-site attacker. A hand-written token is twenty lines; Flask-WTF
would bring WTForms for forms this small.

A user may be bound to one agency (docs/design.md §7, store/users.py): every page asks
`may_read` / `readable_or_404` here, and whatever lies outside the user's scope answers 404,
as if it did not exist, so a bound user cannot learn which other agencies' runs exist.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from gateway.domain.agencies import UnknownAgency, resolve_agency
from gateway.runtime import gateway
from gateway.security.private_files import place_once, read_complete
from gateway.store.users import LOCKOUT, MAX_FAILURES, User, authenticate, end_sessions, get_user
from gateway.web.blueprint import bp
from gateway.web.i18n import tr

SECRET_FILE = "secret_key"
SESSION_LIFETIME = timedelta(hours=8)  # one working day; then log in again
_LIFETIME_S = SESSION_LIFETIME.total_seconds()
_LOCK_MINUTES = int(LOCKOUT.total_seconds() // 60)


def ensure_secret_key(app: Flask) -> None:
    """Use JAMSOS_SECRET_KEY / SECRET_KEY when configured; otherwise create one in the instance
    folder (mode 0600) the first time a session is needed, like the development key file.

    Several gunicorn workers may race here: exactly one key is placed and every worker reads
    it (security/private_files.py).
    """
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.config["INSTANCE_PATH"]) / SECRET_FILE
    if not path.exists():
        place_once(path, secrets.token_urlsafe(48).encode())  # another worker's may win
    app.config["SECRET_KEY"] = read_complete(path, _secret_text, ValueError)


def _secret_text(data: bytes) -> str:
    text = data.decode().strip()
    if not text:  # created, not yet written (a file system without hard links)
        raise ValueError(f"{SECRET_FILE} is empty")
    return text


class _KeyedSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session, with the signing key made (or read) just before the first
    session is opened: the app factory stays free of file I/O."""

    def open_session(self, app: Flask, request: Any) -> Any:
        ensure_secret_key(app)
        return super().open_session(app, request)


@bp.record_once
def _configure(state: Any) -> None:
    app = state.app
    # Set, not setdefault: Flask's defaults (no SameSite, 31 days) are always present, so a
    # setdefault never took effect.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.session_interface = _KeyedSessionInterface()


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


@bp.before_request
def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf")


@bp.before_request
def _load_user() -> None:
    g.user = None
    uid = session.get("uid")
    if uid is not None and not 0 <= time.time() - session.get("since", 0) <= _LIFETIME_S:
        # The cookie's own expiry slides with every request (Flask refreshes it): the
        # session ends SESSION_LIFETIME after login however busy it was.
        session.pop("uid", None)
        uid = None
    if uid is not None:
        g.user = get_user(gateway().registry.engine, uid)
        ended = g.user is not None and g.user.sessions_since is not None and (
            session.get("since", 0) <= g.user.sessions_since.timestamp()
        )  # the user logged out (here or on another computer) after this session began
        if g.user is None or ended:  # disabled or deleted meanwhile: the session ends
            g.user = None
            session.pop("uid", None)


def current_user() -> User | None:
    return getattr(g, "user", None)


def scope() -> str | None:
    """The agency the logged-in user is bound to; None for the national view (or nobody)."""
    user = current_user()
    return user.agency if user is not None else None


def may_read(agency: str) -> bool:
    """Whether the logged-in user may see `agency`'s pages, runs and figures."""
    user = current_user()
    return user is not None and user.may_read(agency)


def readable_or_404(agency: str) -> None:
    """Not found, rather than forbidden, outside the user's scope: a 403 would confirm to a
    user bound to one agency that another agency's run or page exists."""
    if not may_read(agency):
        abort(404)


def _code(agency: str) -> str:
    try:
        return resolve_agency(agency).code
    except UnknownAgency:
        return agency


@bp.before_request
def _upload_only_for_own_agency() -> Any:
    """A logged-in user bound to an agency uploads only for that agency, whatever API key it
    types: the key decides the agency (web/upload.py), the login narrows it. Checked before
    the upload view runs, so the intake never sees a refused roster."""
    user = current_user()
    if request.endpoint != "web.upload" or request.method != "POST" or user is None:
        return None
    if user.agency is None:
        return None
    token = request.form.get("api_key", "").strip()
    key = gateway().registry.authenticate(token) if token else None
    if key is None or _code(key.agency) == user.agency:
        return None  # the upload view answers a missing or invalid key itself
    message = tr(
        f"Akun Anda hanya untuk instansi {user.agency}; kunci API ini milik instansi lain.",
        f"Your account is for agency {user.agency} only; this API key is another agency's.",
    )
    return render_template("error.html", code=403, message=message), 403


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("web.overview")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        result = authenticate(
            gateway().registry.engine,
            request.form.get("username", ""),
            request.form.get("password", ""),
        )
        if result.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) at login: no fixation
            session.permanent = True
            session["uid"] = result.user.id
            session["since"] = time.time()
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.form.get("next")))
        # One answer for a wrong password, an unknown user and a locked account: saying
        # "locked until ..." only for real accounts told anyone which usernames exist.
        error = tr(
            "Nama pengguna atau kata sandi salah, atau akun dikunci sementara (setelah "
            f"{MAX_FAILURES} kali gagal, selama {_LOCK_MINUTES} menit).",
            f"Wrong username or password, or the account is locked for a while "
            f"({_LOCK_MINUTES} minutes after {MAX_FAILURES} failed attempts).",
        )
    status = 401 if error else 200
    return render_template(
        "login.html", error=error, next=request.values.get("next", "")
    ), status


@bp.post("/logout")
def logout() -> Any:
    lang = session.get("lang")
    user = current_user()
    if user is not None:  # a copy of this cookie must not outlive the logout
        end_sessions(gateway().registry.engine, user.id)
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))
