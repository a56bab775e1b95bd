"""Signed audit checkpoints: a chain rewritten with every later hash recomputed, a truncated
chain, and a run deleted or edited in the registry are found (issue 16, finding 9).

Before, `jamsos audit verify` walked the hash chain alone: whoever could write the database
edited an entry, recomputed the later hashes and was told "chain intact"; the runs themselves
were not covered at all. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import (
    audit_checkpoints,
    audit_log,
    enrollment_history,
    problems,
    runs,
)
from tests.helpers.roster import worker_row, write_roster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def submit(gw, path, agency="15.05"):
    return submit_roster(gw.registry, path, agency=resolve_agency(agency),
                         today=date(2026, 1, 5), trigger="test")


def invoke(app, *args):
    with app.app_context():
        return CliRunner().invoke(main, list(args))


def _runs(gw, tmp_path):
    """Three succeeded runs (the third ends a worker) and a rejected one; returns the ids."""
    ids = [submit(gw, write_roster(tmp_path / f"r{n}.csv",
                                   [worker_row(i) for i in range(k)])).run_id
           for n, k in enumerate((3, 4, 2))]
    bad = [["1505", "Salah", "X", "99-99-9999", "Guru", "SD", "nol", "kemarin"]]
    rejected = submit(gw, write_roster(tmp_path / "bad.csv", bad))
    assert rejected.status == "rejected"
    return [*ids, rejected.run_id]


def _verify(app):
    result = invoke(app, "audit", "verify")
    return result.exit_code, result.output


def test_every_run_is_checkpointed_and_verify_says_intact(app, gw, tmp_path):
    ids = _runs(gw, tmp_path)
    with gw.engine.connect() as conn:
        stored = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id)).all()
    assert len(stored) == len(ids)  # one per applied (or rejected in the apply) run
    body = json.loads(stored[-1].body)
    assert body["runs"]["final"] == {"succeeded": 3, "rejected": 1, "failed": 0}
    assert body["chain"]["seq"] == stored[-1].seq and body["key_id"] == gw.signer.key_id
    code, out = _verify(app)
    assert code == 0 and "chain intact" in out and f"checkpoint {len(ids)}" in out, out


def test_a_rewritten_chain_with_recomputed_hashes_is_found(app, gw, tmp_path):
    _runs(gw, tmp_path)
    with gw.engine.begin() as conn:  # edit entry 2, then recompute every later hash
        entries = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        prev = audit.GENESIS
        for e in entries:
            details = e.details.replace('"accepted": 4', '"accepted": 40') if e.seq == 2 \
                else e.details
            digest = audit._digest(prev, e.seq, e.at, e.actor, e.action, e.subject, details)
            conn.execute(update(audit_log).where(audit_log.c.seq == e.seq)
                         .values(details=details, prev_hash=prev, hash=digest))
            prev = digest
    assert audit.verify(gw.engine).ok  # the chain alone still walks: the old verdict
    code, out = _verify(app)
    assert code == 1, out
    assert "is not the one checkpoint 2 signed (the chain was rewritten)" in out
    assert "run 2 differs from its audit entry (accepted)" in out


def test_a_deleted_run_is_found(app, gw, tmp_path):
    *_, rejected = _runs(gw, tmp_path)
    with gw.engine.begin() as conn:
        conn.execute(delete(problems).where(problems.c.run_id == rejected))
        conn.execute(delete(runs).where(runs.c.id == rejected))
    code, out = _verify(app)
    assert code == 1, out
    assert f"run {rejected} is in the audit log but not in the registry (deleted)" in out
    assert f"runs {rejected}..{rejected} differ from checkpoint {rejected}" in out


def test_an_edited_run_is_found(app, gw, tmp_path):
    first, *_ = _runs(gw, tmp_path)
    with gw.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == first).values(accepted=300, rows=300))
    code, out = _verify(app)
    assert code == 1 and f"run {first} differs from its audit entry (rows, accepted)" in out


def test_a_finished_run_with_no_audit_entry_is_found(app, gw, tmp_path):
    first, *_ = _runs(gw, tmp_path)
    with gw.engine.begin() as conn:
        row = conn.execute(select(runs).where(runs.c.id == first)).mappings().one()
        conn.execute(runs.insert().values({**row, "id": 99}))
    code, out = _verify(app)
    assert code == 1 and "run 99 finished without an audit entry (inserted)" in out, out


def test_a_truncated_chain_is_found(app, gw, tmp_path):
    _runs(gw, tmp_path)
    with gw.engine.begin() as conn:
        last = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())).first()[0]
        conn.execute(delete(audit_log).where(audit_log.c.seq > last - 2))
    assert audit.verify(gw.engine).ok
    code, out = _verify(app)
    assert code == 1 and f"signed entry {last} (truncated)" in out, out


def test_a_forged_or_removed_checkpoint_is_found_and_the_export_outlives_it(app, gw, tmp_path):
    _runs(gw, tmp_path)
    export = tmp_path / "checkpoints.jsonl"
    assert invoke(app, "audit", "export-checkpoints", str(export)).exit_code == 0
    assert len(export.read_text().splitlines()) == 4
    with gw.engine.begin() as conn:
        body = conn.execute(select(audit_checkpoints.c.body)
                            .where(audit_checkpoints.c.id == 2)).scalar_one()
        conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.id == 2)
                     .values(body=body.replace('"seq":', '"seq":1')))
    code, out = _verify(app)
    assert code == 1 and "checkpoint 2: signature does not match (altered)" in out, out
    # Whoever rewrites the chain deletes the checkpoints too: the exported copy still holds.
    with gw.engine.begin() as conn:
        conn.execute(delete(audit_checkpoints))
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(actor="x"))
        entries = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        prev = audit.GENESIS
        for e in entries:
            digest = audit._digest(prev, e.seq, e.at, e.actor, e.action, e.subject, e.details)
            conn.execute(update(audit_log).where(audit_log.c.seq == e.seq)
                         .values(prev_hash=prev, hash=digest))
            prev = digest
    code, out = _verify(app)
    assert code == 0  # nothing left in the database to say otherwise
    result = invoke(app, "audit", "verify", "--checkpoints", str(export))
    assert result.exit_code == 1, result.output
    assert "checkpoint 4 (exported) is missing from the database" in result.output
    assert "(the chain was rewritten)" in result.output


def test_a_full_checkpoint_covers_every_history_row(app, gw, tmp_path):
    _runs(gw, tmp_path)
    result = invoke(app, "audit", "checkpoint")
    assert result.exit_code == 0 and "checkpoint 5" in result.output, result.output
    with gw.engine.begin() as conn:
        conn.execute(update(enrollment_history).where(enrollment_history.c.id == 1)
                     .values(after={"wage": 1}))
    code, out = _verify(app)
    assert code == 1 and "history rows up to" in out and "checkpoint 5" in out, out
    with gw.engine.begin() as conn:  # a deleted row: counted by every checkpoint
        conn.execute(delete(enrollment_history).where(enrollment_history.c.id == 2))
    code, out = _verify(app)
    assert code == 1 and "checkpoint 5 (deleted or edited): signed 6, now 5" in out, out


def test_checkpoints_signed_with_another_key_are_refused(app, gw, tmp_path):
    _runs(gw, tmp_path)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from gateway.security.receipts import public_pem

    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    result = invoke(app, "audit", "verify", "--public-key", str(other))
    assert result.exit_code == 1 and "signed with an unknown key" in result.output
    # A key used before a new JAMSOS_RECEIPT_KEY is passed beside it.
    mine = tmp_path / "mine.pem"
    mine.write_text(public_pem(gw.signer.public))
    assert invoke(app, "audit", "verify", "--public-key", str(other), "--public-key",
                  str(mine)).exit_code == 0
    with writing(gw.engine) as conn:
        assert audit.checkpoint(conn, gw.signer)["id"] == 5
    assert invoke(app, "audit", "verify", "--public-key", str(mine)).exit_code == 0
    saved = tmp_path / "receipt-key.json"  # `curl .../api/v1/receipt-key > receipt-key.json`
    saved.write_bytes(app.test_client().get("/api/v1/receipt-key").data)
    assert invoke(app, "audit", "verify", "--public-key", str(saved)).exit_code == 0


def test_a_run_still_running_at_a_checkpoint_is_covered_once_it_ends(app, gw, tmp_path):
    """A run that runs while another is sealed is listed open, then signed by the first
    checkpoint after it finished: an edit of it afterwards is found too."""
    waiting = gw.registry.start_run(agency="31", source="upload", trigger="test")
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(2)]))
    with gw.engine.connect() as conn:
        first = json.loads(conn.execute(select(audit_checkpoints.c.body)).scalar_one())
    assert first["runs"]["open"] == [waiting]
    gw.registry.fail_run(waiting, "stopped")
    submit(gw, write_roster(tmp_path / "b.csv", [worker_row(i) for i in range(3)]))
    with gw.engine.connect() as conn:
        second = json.loads(conn.execute(select(audit_checkpoints.c.body)
                                         .where(audit_checkpoints.c.id == 2)).scalar_one())
    assert second["runs"]["closed"] == [waiting] and second["runs"]["runs"] == 2
    assert _verify(app)[0] == 0
    with gw.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == waiting).values(input_sha256="0" * 64))
    code, out = _verify(app)
    assert code == 1 and f"runs 3..3 and {waiting} differ from checkpoint 2" in out, out
