"""The record digest is keyed: a copy of the database does not confirm a guessed name, and a
registry written before it was keyed is re-keyed by `jamsos db upgrade` (migration 0006)
without a single row then looking changed."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.security.crypto import generate_keyring
from gateway.store import audit, db, rekey
from gateway.store.db import StoreError, writing
from gateway.store.sealed import RecordDigest
from gateway.store.tables import enrollments, gateway_meta, workers
from tests.helpers.roster import HEADER, worker_row, write_roster

TODAY = date(2026, 11, 21)
AGENCY = "15.05"
JAMSOS = str(Path(sys.executable).with_name("jamsos"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _submit(gw, path: Path):
    return submit_roster(
        gw.registry, path, agency=resolve_agency(AGENCY), today=TODAY, trigger="test"
    )


def _stored(gw) -> list[tuple]:
    """(enrollment id, record_hash, name, category, position, work_unit, wage, start, birth,
    gender) of every enrollment, the name decrypted."""
    with gw.engine.connect() as conn:
        rows = conn.execute(
            select(
                enrollments.c.id, enrollments.c.record_hash, workers.c.name_enc,
                enrollments.c.category, enrollments.c.position, enrollments.c.work_unit,
                enrollments.c.wage, enrollments.c.start_date, workers.c.birth_date,
                workers.c.gender,
            )
            .join(workers, workers.c.id == enrollments.c.worker_id)
            .order_by(enrollments.c.id)
        ).all()  # fmt: skip
    return [
        (eid, digest, gw.keyring.decrypt(name, "workers.name"), category, position, unit,
         wage, start.isoformat(), born.isoformat(), gender)
        for eid, digest, name, category, position, unit, wage, start, born, gender in rows
    ]  # fmt: skip


def _unkeyed(parts: tuple) -> str:
    """The digest as revision 0005 stored it: BLAKE2b of the name and the facts, no key."""
    name, category, position, unit, wage, start, born, gender = parts
    text = "\x1f".join((name, category, position or "", unit or "", str(wage), start, born, gender))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_a_stored_digest_does_not_confirm_a_guessed_name(gw, tmp_path):
    _submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(12)]))
    stored = _stored(gw)
    assert len(stored) == 12
    ours, another = RecordDigest(gw.keyring), RecordDigest(generate_keyring("x"))
    for _, digest, *parts in stored:
        # Whoever holds the database sees every part but the name in the clear; with the
        # right name guessed, the unkeyed digest matched the stored one. Not any more:
        assert digest != _unkeyed(tuple(parts))
        assert digest == ours.of_parts(*parts)  # the key is what it takes
        assert digest != another.of_parts(*parts)


def _comma_file(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    """The same cells in other bytes: not a replay of the first file."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=",")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _as_written_by_0005(gw, spelt: dict[int, str] | None = None) -> None:
    """Turn the registry into one revision 0005 wrote: unkeyed digests, no row digests (so a
    re-sent row is compared by its record digest), then migrate it to 0006. `spelt`: the
    name an enrollment's own roster gave, where it is not the stored one."""
    stored = _stored(gw)
    with writing(gw.engine) as conn:
        for eid, _, name, *facts in stored:
            parts = ((spelt or {}).get(eid, name), *facts)
            conn.execute(
                update(enrollments)
                .where(enrollments.c.id == eid)
                .values(record_hash=_unkeyed(parts), row_digest=None)
            )
        cfg = db._alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
        command.upgrade(cfg, "head")
    assert rekey.pending(gw.engine)  # 0006 found enrollments: they wait to be re-keyed


WIDE = [*HEADER, "Unit Kerja", "Kategori"]


def _wide_rows(n: int) -> list[list[str]]:
    """Rows with and without a position and a work unit, in several categories."""
    rows = []
    for i in range(n):
        row = [*worker_row(i), f"Dinas {i % 3}", ("honorer", "RT/RW", "Aparat Desa")[i % 3]]
        if i % 4 == 1:
            row[4] = ""  # no position
        if i % 5 == 2:
            row[7] = ""  # no work unit
        rows.append(row)
    return rows


def test_upgrade_rekeys_an_old_registry_and_no_row_looks_changed(app, gw, tmp_path, backend):
    rows = _wide_rows(30)
    assert _submit(gw, write_roster(tmp_path / "a.csv", rows, WIDE)).changes["new"] == 30
    stored = _stored(gw)
    assert None in {r[4] for r in stored} and None in {r[5] for r in stored}
    assert {r[3] for r in stored} == {"honorer", "rt_rw", "aparat_desa"}
    _as_written_by_0005(gw)
    config = {"INSTANCE_PATH": app.config["INSTANCE_PATH"], "CONFIG_FILE": None,
              "DATABASE_URL": app.config["DATABASE_URL"]}  # fmt: skip

    if backend == "postgresql":
        # Production migrates explicitly: a gateway that would record every row as changed
        # refuses to start, and says what to run.
        waiting = create_app(config)
        with pytest.raises(StoreError, match="jamsos db upgrade"):
            waiting.extensions["jamsos"].registry  # noqa: B018
        ready = waiting.test_client().get("/readyz")  # the load balancer sends nobody there
        assert ready.status_code == 503 and "jamsos db upgrade" in ready.json["pending"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
        env.update(gw.keyring.to_env(), JAMSOS_CONFIG_FILE="")
        env["JAMSOS_DATABASE_URL"] = app.config["DATABASE_URL"]
        env["JAMSOS_INSTANCE_PATH"] = app.config["INSTANCE_PATH"]
        done = subprocess.run(
            [JAMSOS, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert "Re-keyed 30 record digests" in done.stdout
        assert "did not match" not in done.stdout
    # The embedded SQLite default migrates, and so re-keys, by itself at start.
    upgraded_app = create_app(config)
    upgraded = upgraded_app.extensions["jamsos"]
    again = _submit(upgraded, _comma_file(tmp_path / "b.csv", rows, WIDE))

    assert not again.replayed
    assert again.changes == {"new": 0, "changed": 0, "unchanged": 30, "ended": 0}
    assert not rekey.pending(upgraded.engine)
    logged = audit.recent(upgraded.engine, limit=100)
    rekeyed = [json.loads(e["details"]) for e in logged if e["action"] == "record_hashes_rekeyed"]
    assert rekeyed == [{"rows": 30, "unmatched": 0}]
    assert audit.verify(upgraded.engine).ok
    assert upgraded_app.test_client().get("/readyz").status_code == 200
    upgraded.engine.dispose()


def test_an_interrupted_rekey_resumes_after_the_last_batch_it_committed(gw, tmp_path):
    _submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(10)]))
    _as_written_by_0005(gw)
    before = _stored(gw)
    with writing(gw.engine) as conn:  # as if killed after committing the first 4 rows
        conn.execute(
            update(gateway_meta)
            .where(gateway_meta.c.key == rekey.MARKER)
            .values(value=str(before[3][0]))
        )

    assert rekey.rekey(gw.engine, gw.keyring, batch_size=3) == (6, 0)
    after = _stored(gw)
    digest = RecordDigest(gw.keyring)
    assert [a[1] for a in after[:4]] == [b[1] for b in before[:4]]  # not redone
    assert all(a[1] == digest.of_parts(*a[2:]) for a in after[4:])
    assert not rekey.pending(gw.engine)
    assert rekey.rekey(gw.engine, gw.keyring) == (0, 0)  # nothing left, nothing logged again
    assert sum(e["action"] == "record_hashes_rekeyed" for e in audit.recent(gw.engine)) == 1


def test_another_agencys_spelling_cannot_be_rekeyed_exactly_and_is_reported(gw, tmp_path):
    """The name is read back from the worker, whom two agencies enrol: the agency whose roster
    spelt it otherwise than the stored spelling gets the digest of the stored facts, is
    counted, and its next roster records that worker as changed, once."""
    region = [worker_row(1, name="Budi Santoso"), worker_row(2)]
    ministry = [worker_row(1, name="Budi Santosa")]
    _submit(gw, write_roster(tmp_path / "a.csv", region))
    submit_roster(gw.registry, write_roster(tmp_path / "m.csv", ministry),
                  agency=resolve_agency("16"), today=TODAY, trigger="test")  # fmt: skip
    with gw.engine.connect() as conn:
        theirs = conn.execute(
            select(enrollments.c.id).where(enrollments.c.agency == "16")).scalar_one()
    # Outside the read: the downgrade drops tables whose keys refer to enrollments (migration
    # 0013's mutations), which waits on PostgreSQL for any transaction that read it.
    _as_written_by_0005(gw, spelt={theirs: "Budi Santosa"})

    assert rekey.rekey(gw.engine, gw.keyring) == (3, 1)
    again = _submit(gw, _comma_file(tmp_path / "a2.csv", region))
    assert again.changes == {"new": 0, "changed": 0, "unchanged": 2, "ended": 0}
    again = submit_roster(gw.registry, _comma_file(tmp_path / "m2.csv", ministry),
                          agency=resolve_agency("16"), today=TODAY, trigger="test")  # fmt: skip
    assert again.changes == {"new": 0, "changed": 1, "unchanged": 0, "ended": 0}


def test_a_new_registry_has_nothing_to_rekey(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(gateway_meta.c.key)).scalars().all() == []
    assert not rekey.pending(engine)
    engine.dispose()


def test_upgrade_without_the_keys_says_so_and_creates_no_key(app, gw, tmp_path):
    _submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    _as_written_by_0005(gw)
    gw.engine.dispose()
    instance = Path(app.config["INSTANCE_PATH"])
    key_file = instance / "keys.json"
    kept = key_file.rename(tmp_path / "keys.json")  # a migration host without the keys
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="")
    env["JAMSOS_DATABASE_URL"] = app.config["DATABASE_URL"]

    def upgrade() -> subprocess.CompletedProcess:
        return subprocess.run(
            [JAMSOS, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
        )

    refused = upgrade()
    assert refused.returncode != 0
    assert "JAMSOS_DATA_KEYS" in refused.stderr and "jamsos db upgrade" in refused.stderr
    assert not key_file.exists()  # a new key would only have been refused later
    kept.rename(key_file)
    done = upgrade()
    assert done.returncode == 0, done.stderr
    assert "Re-keyed 3 record digests" in done.stdout


def test_two_upgrades_at_once_take_turns(gw, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    _submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(40)]))
    _as_written_by_0005(gw)
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(
            pool.map(lambda _: rekey.rekey(gw.engine, gw.keyring, batch_size=3), (1, 2))
        )

    # Each batch done once: one upgrade finishes with the whole count, the other finds
    # nothing left; one audit entry.
    assert sorted(outcomes) == [(0, 0), (40, 0)]
    assert sum(e["action"] == "record_hashes_rekeyed" for e in audit.recent(gw.engine)) == 1
    digest = RecordDigest(gw.keyring)
    assert all(r[1] == digest.of_parts(*r[2:]) for r in _stored(gw))
