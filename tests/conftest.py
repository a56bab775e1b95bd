"""Shared fixtures: a real gateway app on a real SQLite file in a temporary instance folder.

Test modules that define a parametrized `backend` fixture (see test_registry.py) run on both
SQLite and a real PostgreSQL that the session starts itself (tests/pg.py). Helpers that tests
import by name (roster rows and files, the dashboard login) are in tests/helpers/.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.store import db
from tests.pg import PostgresServer, find_bindir


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL for the session, started on first use."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":  # CI installs PostgreSQL: never skip there
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found; .ci/run installs them")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: PostgreSQL tests skipped")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    """A migrated database that each test's database is copied from (fast, no re-migration)."""
    _pg_admin(pg_server, "CREATE DATABASE jamsos_template")
    engine = db.make_engine(pg_server.url("jamsos_template"))
    db.upgrade(engine)
    engine.dispose()  # a template must have no open connection while it is copied
    return "jamsos_template"


_db_numbers = itertools.count(1)


@pytest.fixture
def pg_database_url(pg_server: PostgresServer, pg_template: str) -> str:
    """A fresh, migrated database for one test."""
    name = f"jamsos_test_{next(_db_numbers)}"
    _pg_admin(pg_server, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    return pg_server.url(name)


def _pg_admin(server: PostgresServer, sql: str) -> None:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def backend() -> str:
    """The registry's database: modules that run on both override this with params."""
    return "sqlite"


@pytest.fixture
def app(tmp_path: Path, backend: str, request: pytest.FixtureRequest):
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "BATCH_SIZE": 50, "CONFIG_FILE": None}
    if backend == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_database_url")
    app = create_app(config)
    yield app
    gateway = app.extensions["jamsos"]
    if "engine" in gateway.__dict__:  # created lazily: dispose only what a test opened
        gateway.engine.dispose()


@pytest.fixture
def gw(app):
    with app.app_context():
        yield app.extensions["jamsos"]


@pytest.fixture
def client(app):
    return app.test_client()
