"""The gateway's runtime: the engine, keys, registry and plugins a request, a command or a
scheduled task works with, made lazily; and `gateway()`, the runtime of the current Flask app.

It lives below the Flask factory (`gateway/app.py`) so that the blueprints (`api/`, `web/`,
`metrics.py`), which `create_app` registers, can reach it without importing the factory back.
"""

from __future__ import annotations

import functools
import logging
import weakref
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app

from gateway.security.crypto import KeyRing, KeyRingError, load_keyring
from gateway.security.private_files import private_folder
from gateway.security.receipts import ReceiptSigner, load_signer
from gateway.store import db, liveness, rekey
from gateway.store.registry import Registry
from gateway.store.rotation import check_keys

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gateway.sources.health import Feed

log = logging.getLogger(__name__)

class Gateway:
    """Everything a request or command needs, created lazily: building the app opens no
    database and reads no key, so `--help` and a cold import stay cheap."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.key_notice: str | None = None
        self._ready = False

    @functools.cached_property
    def engine(self) -> Engine:
        # The instance folder holds the SQLite database, the key files and the upload spool:
        # owner-only (0700), also when an older release or a umask made it wider.
        instance = Path(self.config["INSTANCE_PATH"])
        if private_folder(instance):
            log.warning("Made the instance folder owner-only (0700), it was open to others / "
                        "folder instance dibuat hanya untuk pemiliknya: %s", instance)
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

    def feeds(self, *, now: datetime | None = None, with_trend: bool = True) -> list[Feed]:
        """Every feed's health, worst first, as the dashboard, /metrics and the daily report
        show it: the runs (gateway/store/feed_health.py) judged against the configured
        sources and UPLOAD_STALE_DAYS (gateway/sources/health.py)."""
        from gateway.roster.endings import share_of
        from gateway.sources.health import UPLOAD_STALE_DAYS, configured_sources, judge_feeds
        from gateway.store.feed_health import read_feed_runs

        stale_days = int(self.config.get("UPLOAD_STALE_DAYS") or UPLOAD_STALE_DAYS)
        found = read_feed_runs(self.registry.engine, with_trend=with_trend)
        return judge_feeds(found, configured_sources(self), now=now, upload_stale_days=stale_days,
                           ending_share=share_of(self.config),
                           reject_share=float(self.config.get("REJECT_ATTENTION_SHARE", 0.1)))

    @property
    def is_sqlite(self) -> bool:
        return db.is_sqlite(self.config["DATABASE_URL"])

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
        # And again every SWEEP_SECONDS while this process lives (issue 20).
        me = weakref.ref(self)  # the thread must not keep a finished runtime alive

        def sweep() -> bool:
            runtime = me()
            if runtime is None:
                return False  # this runtime is gone: the thread ends
            runtime.sweep()
            return True

        every = float(self.config.get("SWEEP_SECONDS", 60))
        if liveness.start_sweeper(f"{self.config['DATABASE_URL']}#{id(self)}", sweep, every):
            liveness.beat(self.engine, every)  # beats only while a sweeper keeps them fresh

    def sweep(self) -> None:
        """One pass of the periodic sweep: this process's heartbeat (PostgreSQL); runs left
        `running` by a killed process (at once on this machine; elsewhere once its heartbeat
        is silent, or after STALE_RUN_HOURS with none) and the upload spools they left;
        then the alerts the feeds' health calls for (gateway/alerts.py)."""
        from gateway.alerts import check_alerts
        from gateway.roster.intake import sweep_uploads

        # First: a slow pass must not look like a dead process.
        liveness.beat(self.engine, float(self.config.get("SWEEP_SECONDS", 60)))
        hours = float(self.config.get("STALE_RUN_HOURS", 6))
        Registry(self.engine, self.keyring).mark_interrupted(timedelta(hours=hours))
        sweep_uploads(self)
        check_alerts(self)

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


def gateway() -> Gateway:
    """The runtime of the current app (inside a request or an app context)."""
    return current_app.extensions["jamsos"]
