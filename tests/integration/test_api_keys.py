"""API key lifecycle (issue 16, finding 8): list, revoke, rotate, expire, from the CLI, in
force on the API's next request; every run and audit entry names the key that acted.

Before: a key could be neither listed nor revoked nor rotated without SQL, and runs and audit
entries named the actor `api`. Each test runs on a real SQLite file and a real PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import inspect, select, update

from gateway.cli import main
from gateway.clock import WIB
from gateway.store import db
from gateway.store.tables import api_keys, audit_log, runs
from tests.helpers.roster import worker_row, write_roster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def jamsos(app, *args: str):
    with app.app_context():
        return CliRunner().invoke(main, list(args))


def create(app, *args: str) -> str:
    result = jamsos(app, "apikeys", "create", "--agency", "15.05", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def prefix_of(token: str) -> str:
    return token.split("_")[1]


def runs_status(client, token: str) -> int:
    return client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"}).status_code


def listed(app) -> dict[str, dict]:
    result = jamsos(app, "apikeys", "list", "--json")
    assert result.exit_code == 0, result.output
    return {k["prefix"]: k for k in json.loads(result.stdout)}


def test_list_names_every_key_and_never_its_secret(app, client):
    token = create(app, "--label", "BKPSDM Muaro Jambi", "--expires-in", "30")
    other = create(app)
    assert runs_status(client, token) == 200
    keys = listed(app)
    mine = keys[prefix_of(token)]
    assert mine["agency"] == "15.05" and mine["label"] == "BKPSDM Muaro Jambi"
    assert mine["status"] == "active" and mine["revoked_at"] is None
    assert mine["created_at"] and mine["last_used_at"]  # used just now
    assert keys[prefix_of(other)]["last_used_at"] is None
    expires = datetime.fromisoformat(mine["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    table = jamsos(app, "apikeys", "list")
    for text in (table.output, json.dumps(keys)):
        assert token.split("_", 2)[2] not in text and other.split("_", 2)[2] not in text
    assert prefix_of(token) in table.output and "BKPSDM Muaro Jambi" in table.output


def test_a_revoke_holds_from_the_next_request(app, client):
    token = create(app)
    assert runs_status(client, token) == 200
    result = jamsos(app, "apikeys", "revoke", prefix_of(token))
    assert result.exit_code == 0, result.output
    assert runs_status(client, token) == 401
    assert listed(app)[prefix_of(token)]["status"] == "revoked"
    again = jamsos(app, "apikeys", "revoke", prefix_of(token))
    assert again.exit_code == 1 and "no live key" in again.output
    entries = _audit(app, "api_key_revoked")
    assert [e["details"]["prefix"] for e in entries] == [prefix_of(token)]


def test_a_rotation_prints_the_successor_once_and_revokes_the_old_key(app, client):
    old = create(app, "--label", "SIMPEG")
    result = jamsos(app, "apikeys", "rotate", prefix_of(old))
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert new.startswith("jgw_") and new != old
    assert runs_status(client, old) == 401 and runs_status(client, new) == 200
    keys = listed(app)
    assert keys[prefix_of(new)]["label"] == "SIMPEG" and keys[prefix_of(new)]["agency"] == "15.05"
    assert keys[prefix_of(old)]["status"] == "revoked"
    assert jamsos(app, "apikeys", "rotate", prefix_of(old)).exit_code == 1  # nothing to rotate


def test_a_rotation_with_grace_keeps_the_old_key_until_then(app, client):
    old = create(app)
    result = jamsos(app, "apikeys", "rotate", prefix_of(old), "--grace", "24h")
    assert result.exit_code == 0, result.output
    new = result.stdout.strip()
    assert runs_status(client, old) == 200 and runs_status(client, new) == 200
    keys = listed(app)
    assert keys[prefix_of(old)]["status"] == "grace"
    until = datetime.fromisoformat(keys[prefix_of(old)]["revoked_at"])
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)
    # The grace period ends early on a revoke.
    assert jamsos(app, "apikeys", "revoke", prefix_of(old)).exit_code == 0
    assert runs_status(client, old) == 401 and runs_status(client, new) == 200
    assert jamsos(app, "apikeys", "rotate", prefix_of(new), "--grace", "9999999999d"
                  ).exit_code == 2  # fmt: skip


def test_an_expired_key_is_refused(app, gw, client):
    token = create(app, "--expires", (datetime.now(WIB).date() + timedelta(days=3)).isoformat())
    stored = listed(app)[prefix_of(token)]["expires_at"]
    # The whole named day in WIB: up to midnight WIB, 17:00 UTC.
    assert datetime.fromisoformat(stored).astimezone(WIB).time().isoformat() == "00:00:00"
    assert runs_status(client, token) == 200
    with gw.engine.begin() as conn:  # as if the day had passed
        conn.execute(update(api_keys).where(api_keys.c.prefix == prefix_of(token))
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # fmt: skip
    assert runs_status(client, token) == 401
    assert listed(app)[prefix_of(token)]["status"] == "expired"
    past = jamsos(app, "apikeys", "create", "--agency", "15.05", "--expires", "2020-01-01")
    assert past.exit_code == 2 and "the date has passed" in past.output
    both = jamsos(app, "apikeys", "create", "--agency", "15.05", "--expires", "2030-01-01",
                  "--expires-in", "3")  # fmt: skip
    assert both.exit_code == 2


def test_every_run_and_its_audit_entries_name_the_key(app, gw, client, tmp_path):
    token = create(app)
    actor = f"api:{prefix_of(token)}"
    auth = {"Authorization": f"Bearer {token}"}
    good = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")  # no header: refused as a whole
    ids = []
    for path in (good, bad):
        with open(path, "rb") as fh:
            answer = client.post("/api/v1/agencies/15.05/rosters", headers=auth,
                                 data={"file": (fh, path.name)},
                                 content_type="multipart/form-data")  # fmt: skip
        ids.append(_finished(client, auth, answer.json["run_id"]))
    with gw.engine.connect() as conn:
        stored = conn.execute(select(runs.c.id, runs.c.actor, runs.c.trigger)
                              .where(runs.c.id.in_(ids))).all()  # fmt: skip
    assert {(r.actor, r.trigger) for r in stored} == {(actor, "api")}
    shown = client.get(f"/api/v1/runs/{ids[0]}", headers=auth).json
    assert shown.get("actor", shown.get("run", {}).get("actor")) == actor
    entries = [e for e in _audit(app) if e["subject"] in {f"run:{i}" for i in ids}]
    assert {e["action"] for e in entries} >= {"run_applied", "run_rejected"}
    assert {e["actor"] for e in entries} == {actor}


def test_recording_a_use_never_waits_for_a_writer(app, gw, client):
    """On SQLite an apply holds the only write lock for minutes (on PostgreSQL a revoke may
    hold the key's row): a key's last use is then simply not recorded, and the request is
    answered while the lock is still held."""
    token = create(app)
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.writing(gw.engine) as conn:
            conn.execute(update(api_keys).values(label="held"))
            held.set()
            release.wait(20)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert held.wait(10)
        assert runs_status(client, token) == 200
        assert not release.is_set() and thread.is_alive()  # answered under the lock
    finally:
        release.set()
        thread.join()
    assert listed(app)[prefix_of(token)]["last_used_at"] is None  # skipped, not waited for
    assert runs_status(client, token) == 200
    assert listed(app)[prefix_of(token)]["last_used_at"] is not None


def test_migration_0010_adds_the_lifecycle_columns_to_an_existing_registry(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
        # 0001 builds from today's tables: take away what 0010 adds, as a 0009 registry was
        for table, column in (("api_keys", "expires_at"), ("api_keys", "last_used_at"),
                              ("runs", "actor")):  # fmt: skip
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.upgrade(engine)
    assert {"expires_at", "last_used_at"} <= {c["name"] for c in
                                             inspect(engine).get_columns("api_keys")}
    assert "actor" in {c["name"] for c in inspect(engine).get_columns("runs")}
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    assert "actor" not in {c["name"] for c in inspect(engine).get_columns("runs")}
    engine.dispose()


def _finished(client, auth: dict, run_id: int) -> int:
    """Wait for a run an upload started (it may be applied in the background)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/runs/{run_id}", headers=auth).json
        status = answer.get("status") or answer.get("run", {}).get("status")
        if status != "running":
            return run_id
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still running")


def _audit(app, action: str | None = None) -> list[dict]:
    gw = app.extensions["jamsos"]
    query = select(audit_log).order_by(audit_log.c.seq)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    with gw.engine.connect() as conn:
        return [dict(r._mapping, details=json.loads(r.details)) for r in conn.execute(query)]
