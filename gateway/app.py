"""The Flask application factory and the gateway's runtime (`app.extensions["jamsos"]`)."""

from __future__ import annotations

import functools
import os
from typing import Any

from flask import Flask, current_app, redirect, request, url_for
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from gateway.config import load_config, resolve_secret
from gateway.security.crypto import KeyRing, KeyRingError, load_keyring
from gateway.security.receipts import ReceiptSigner, load_signer
from gateway.store import db, rekey
from gateway.store.registry import Registry
from gateway.store.rotation import check_keys


class Gateway:
    """Everything a request or command needs, created lazily: building the app opens no
    database and reads no key, so `--help` and a cold import stay cheap."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.key_notice: str | None = None
        self._ready = False

    @functools.cached_property
    def engine(self) -> Engine:
        return db.make_engine(self.config["DATABASE_URL"])

    @functools.cached_property
    def keyring(self) -> KeyRing:
        ring, self.key_notice = load_keyring(self.config)
        return ring

    @functools.cached_property
    def registry(self) -> Registry:
        self.ensure_ready()
        return Registry(self.engine, self.keyring, self.signer)

    @functools.cached_property
    def signer(self) -> ReceiptSigner:
        return load_signer(self.config)

    @functools.cached_property
    def plugins(self) -> Any:
        """This app's plugin manager (gateway.sources.loader.GatewayPluginManager), made on first
        use: a fresh one per app, never a process-wide global."""
        from gateway.sources.loader import make_plugin_manager

        return make_plugin_manager()

    def sources(self) -> dict[str, Any]:
        """Every syncable source (id -> gateway.sources.loader.SourceEntry) with its settings."""
        from gateway.sources.loader import load_source_settings, source_catalog

        return source_catalog(self.plugins, load_source_settings(self.config))

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.config["DATABASE_URL"]).get_backend_name() == "sqlite"

    def ensure_ready(self) -> None:
        """Migrate (embedded SQLite) or check the schema, and check the index key."""
        if self._ready:
            return
        auto = self.config.get("AUTO_MIGRATE")
        if auto is None:
            auto = self.is_sqlite  # zero setup for the embedded default; production migrates
        if auto:
            db.upgrade(self.engine)
        else:
            db.check_schema(self.engine)
        self.check_keys()
        if auto:
            self.rekey_record_hashes()
        else:
            rekey.check(self.engine)
        # A process killed mid-run leaves its run "running": show it as failed so it can be
        # seen and retried (its transaction was rolled back by the database).
        Registry(self.engine, self.keyring).mark_interrupted()
        self._ready = True

    def check_keys(self) -> None:
        """Refuse keys that do not open the stored data (or index it differently)."""
        db.check_index_key(self.engine, self.keyring.fingerprint())
        check_keys(self.engine, self.keyring)

    def rekey_record_hashes(self, progress: Any = None) -> rekey.Rekeyed:
        """Migration 0006's data step, keys checked first; empty when there is nothing to do.

        Never creates a key file (as first use otherwise does): the digests to re-key were
        written under existing keys, and a new key would only be refused."""
        if not rekey.pending(self.engine):
            return rekey.Rekeyed()
        if "keyring" not in self.__dict__:
            try:
                self.__dict__["keyring"], _ = load_keyring(self.config, create=False)
            except KeyRingError as exc:
                raise KeyRingError(
                    f"{exc}. The schema is migrated, but its stored record digests must be "
                    "re-keyed with the keys the data was written with (migration 0006): set "
                    "JAMSOS_DATA_KEYS and JAMSOS_INDEX_KEY and run `jamsos db upgrade` again"
                ) from exc
        self.check_keys()
        return rekey.rekey(self.engine, self.keyring, progress=progress)


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

    from gateway.api import bp as api_bp
    from gateway.metrics import bp as ops_bp
    from gateway.web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(ops_bp)
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


def gateway() -> Gateway:
    """The runtime of the current app (inside a request or an app context)."""
    return current_app.extensions["jamsos"]


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
