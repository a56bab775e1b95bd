"""Fixtures of the dashboard tests: a seeded gateway, a logged-in test client, and (for the
browser tests) the real app served on 127.0.0.1 with Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.budget.allocation import declare_allocation
from gateway.demo.rosters import generate_roster, write_csv
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store.users import create_user
from tests.helpers.web import PASSWORD, log_in


def seed(app: Any, folder: Path) -> dict[str, Any]:
    """Two governments' rosters (one with mistakes), a declared allocation, a user, a key."""
    gw = app.extensions["jamsos"]
    with app.app_context():
        registry = gw.registry
        runs = {}
        for code, n, errors, seed_no in (("15.05", 120, 0.08, 1505), ("31", 80, 0.0, 31)):
            path = folder / f"roster_{code}.csv"
            write_csv(path, generate_roster(n, seed=seed_no, regency=code if "." in code
                                            else None, province=code[:2], error_rate=errors))
            report = submit_roster(registry, path, agency=resolve_agency(code),
                                   today=date.today(), trigger="cli")
            runs[code] = report.run_id
        # Muaro Jambi declared far too little: a shortfall; Jakarta declared nothing.
        declare_allocation(registry.engine, "15.05", date.today().year,
                           {"jkk": 1_000_000, "jkm": 1_000_000}, runs["15.05"])
        create_user(registry.engine, "siti", PASSWORD, display_name="Siti Rahayu")
        key = registry.create_api_key("15.05", "BKPSDM Muaro Jambi")
    return {"runs": runs, "key": key}


@pytest.fixture
def web_app(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    config: dict[str, Any] = {"INSTANCE_PATH": str(tmp_path / "instance"), "CONFIG_FILE": None,
                              "BATCH_SIZE": 50}
    if backend == "postgresql":  # tests/conftest.py starts a throwaway server
        config["DATABASE_URL"] = request.getfixturevalue("pg_database_url")
    app = create_app(config)
    app.config["SEEDED"] = seed(app, tmp_path)
    yield app
    app.extensions["jamsos"].engine.dispose()


@pytest.fixture
def staff(web_app: Any) -> Any:
    client = web_app.test_client()
    assert log_in(client).status_code == 302
    return client


@pytest.fixture
def live_server(web_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, web_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
