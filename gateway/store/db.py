"""Engine creation and migrations. SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

# `aware` (naive SQLite datetimes are UTC) lives in gateway.clock; still importable from here.
from gateway.clock import aware as aware
from gateway.security.private_files import private_file, private_folder
from gateway.store import tables
from gateway.store.tables import gateway_meta

log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be used as it is (not migrated, wrong keys, unreachable)."""


_WRITE = "jamsos_write"


def writing(engine: Engine) -> AbstractContextManager[Connection]:
    """A transaction that writes: `with writing(engine) as conn:`, the gateway's only way to
    write. On SQLite it takes the write lock as it begins (BEGIN IMMEDIATE), so a writer
    that reads first and writes later cannot fail with "database is locked" when another
    committed in between; a connection from `engine.connect()` begins a deferred, read-only
    transaction, which in WAL mode reads while a roster is being applied."""
    return engine.execution_options(**{_WRITE: True}).begin()


def is_sqlite(url: str) -> bool:
    """Whether a database URL names SQLite (the embedded default, migrated automatically)."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file gets its folder, WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not \
                parsed.database.startswith("file:"):
            _private_database(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the dashboard read while a roster is applied; foreign keys are off by
            # default in SQLite. The driver's own BEGIN handling is replaced below so that a
            # whole apply is one real transaction.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # 32 MB of page cache (default 2 MB): a national roster's index pages stay in memory.
            cur.execute("PRAGMA cache_size=-32768")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # A writer (`writing`) takes the write lock at the start: two writers queue on
            # the busy timeout instead of one failing half-way with "database is locked".
            # A reader must not: it would wait for a whole apply (a minute for a million
            # rows, past the busy timeout) where WAL lets it read at once.
            write = conn.get_execution_options().get(_WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(False))
    return create_engine(url, pool_pre_ping=True)


def _private_database(path: Path) -> None:
    """The SQLite file and its -wal and -shm owner-only (0600), whatever the umask: they hold
    birth dates, wages and positions in clear. A new folder for it is made 0700; a file made
    wider before (0644 by default) is narrowed, and said so."""
    if not path.parent.exists():
        private_folder(path.parent)
    narrowed = [p.name for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm")))
                if private_file(p, create=p == path)]
    if narrowed:
        log.warning("Made the database owner-only (0600), it was readable by others / "
                    "basis data dibuat hanya untuk pemiliknya: %s in %s",
                    ", ".join(narrowed), path.parent)


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(files("gateway.store") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    cfg = _alembic_config()
    with writing(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def count_rows(engine: Engine, table_names: Sequence[str]) -> dict[str, int]:
    """{table: rows} of the named tables of the registry."""
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(tables.metadata.tables[name]))
            .scalar_one()
            for name in table_names
        }


def ping(engine: Engine) -> None:
    """Raises unless the database answers a query."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def check_schema(engine: Engine) -> None:
    """Raise StoreError unless the database is at the latest migration."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StoreError(
            f"database schema is at {current or 'nothing'}, expected {head}: "
            "run `jamsos db upgrade` first"
        )


def check_index_key(engine: Engine, fingerprint: str) -> None:
    """Refuse to run with an index key other than the one the data was written with.

    A wrong key would not crash: it would silently fail to find every worker and enrol them
    all twice. So the first start records the key's fingerprint and later starts compare.
    """
    with writing(engine) as conn:
        stored = conn.execute(
            select(gateway_meta.c.value).where(gateway_meta.c.key == "index_key_fingerprint")
        ).scalar()
        if stored is None:
            conn.execute(
                gateway_meta.insert().values(key="index_key_fingerprint", value=fingerprint)
            )
        elif stored != fingerprint:
            raise StoreError(
                "the configured JAMSOS_INDEX_KEY is not the key this database was written with "
                f"(fingerprint {fingerprint}, database expects {stored}); refusing to start"
            )
