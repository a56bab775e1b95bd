"""The Flask application factory: the API, the dashboard and the operations endpoints under
one app, its runtime (`gateway/runtime.py`) in `app.extensions["jamsos"]`."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, redirect, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from gateway.config import load_config, resolve_secret

# Kept for the callers that import the runtime from here (the CLI, tests, bench); the
# blueprints import it from gateway.runtime, which does not import them back.
from gateway.runtime import Gateway, gateway

__all__ = ["Gateway", "create_app", "gateway"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the gateway's Flask app. `config` overrides file and environment settings."""
    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], instance_relative_config=True)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_UPLOAD_MB"] * 1024 * 1024
    app.extensions["jamsos"] = Gateway(settings)
    # Signs the dashboard's session cookie: JAMSOS_SECRET_KEY or SECRET_KEY in the TOML file
    # (a $env:/$file: reference); with neither, gateway/web/auth.py creates one in the
    # instance folder on first use, like the development key file.
    app.config["SECRET_KEY"] = resolve_secret(
        os.environ.get("JAMSOS_SECRET_KEY") or settings.get("SECRET_KEY")
    )

    # Imported here, not at the top: `jamsos --help` imports this module, and the blueprints
    # bring the whole roster, budget and dashboard code with them.
    from gateway import api, metrics, web
    from gateway.security.accesslog import mask_dev_server_log

    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(metrics.bp)
    mask_dev_server_log()  # no NIK in werkzeug's request log either (security/accesslog.py)
    app.register_error_handler(NotFound, _unrouted)
    app.register_error_handler(MethodNotAllowed, _unrouted)

    @app.get("/")
    def index() -> Any:
        # A person's browser goes to the dashboard; an API client gets the service map.
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return redirect(url_for("web.overview"))
        return {
            "service": "Jamsos Gateway",
            "api": "/api/v1",
            "openapi": "/api/v1/openapi.json",
            "dashboard": "/dashboard/",
        }

    return app


def _unrouted(exc: HTTPException) -> Any:
    """A path no route matches (or a method it does not take) is answered in the manner of
    the part of the site it is under: JSON under /api/, the dashboard's page under
    /dashboard, Flask's own elsewhere."""
    from gateway import api, web

    if request.path.startswith("/api/"):
        return api.unrouted(exc)
    if request.path == "/dashboard" or request.path.startswith("/dashboard/"):
        return web.unrouted(exc)
    return exc
