"""Receipts, the audit chain and key rotation, as an operator or a submitter meets them."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.cli import main
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.security.crypto import KeyRingError, generate_keyring
from gateway.store import audit
from gateway.store.rotation import key_usage
from gateway.store.tables import audit_log
from tests.helpers.roster import worker_row, write_roster


def submit(gw, path, agency="15.05"):
    return submit_roster(gw.registry, path, agency=resolve_agency(agency), today=date(2026, 1, 5),
                         trigger="test")


def invoke(app, *args):
    with app.app_context():
        return CliRunner().invoke(main, list(args))


def test_a_receipt_is_genuine_and_any_change_makes_it_not(app, gw, client, tmp_path):
    report = submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)]))
    receipt = report.receipt
    assert receipt["run_id"] == report.run_id and receipt["accepted"] == 3
    assert receipt["input_sha256"] and receipt["signature"]
    assert receipt["finished_at"].endswith("+00:00")  # SQLite's naive time said no zone
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(receipt))
    result = invoke(app, "receipt", "verify", str(good))
    assert result.exit_code == 0 and "ASLI / GENUINE" in result.stdout

    # Offline, with the public key as published by the API.
    pem = client.get("/api/v1/receipt-key").json["public_key_pem"]
    (tmp_path / "key.pem").write_text(pem)
    assert invoke(app, "receipt", "verify", str(good), "--public-key",
                  str(tmp_path / "key.pem")).exit_code == 0
    # Or the API's answer saved whole (`curl .../receipt-key > key.json`), as its help says.
    (tmp_path / "key.json").write_bytes(client.get("/api/v1/receipt-key").data)
    assert invoke(app, "receipt", "verify", str(good), "--public-key",
                  str(tmp_path / "key.json")).exit_code == 0

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(dict(receipt, accepted=300)))
    result = invoke(app, "receipt", "verify", str(forged))
    assert result.exit_code == 1 and "TIDAK ASLI / NOT GENUINE" in result.stdout
    assert "altered" in result.stdout

    # A verifier with no gateway key of its own is told to pass the issuer's public key; it
    # used to make a signing key of its own, then call the genuine receipt "another key".
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other"), "CONFIG_FILE": None})
    result = invoke(other, "receipt", "verify", str(good))
    assert result.exit_code == 1 and "--public-key" in result.output, result.output
    assert not (tmp_path / "other" / "receipt-key.pem").exists()
    other.extensions["jamsos"].signer  # noqa: B018 - a gateway that signs receipts of its own
    result = invoke(other, "receipt", "verify", str(good))
    assert result.exit_code == 1 and "another key" in result.stdout


def test_the_same_file_again_returns_the_same_receipt(gw, tmp_path):
    path = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    first = submit(gw, path)
    again = submit(gw, path)
    assert again.replayed and again.receipt == first.receipt


def _chain(gw, tmp_path, runs=3):
    for n in range(runs):
        submit(gw, write_roster(tmp_path / f"r{n}.csv", [worker_row(i) for i in range(n + 2)]))
    verdict = audit.verify(gw.registry.engine)
    assert verdict.ok and verdict.entries >= runs
    return verdict


def test_audit_chain_detects_an_edited_entry(app, gw, tmp_path):
    _chain(gw, tmp_path)
    with gw.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2)
                     .values(details='{"accepted": 999}'))
    result = invoke(app, "audit", "verify")
    assert result.exit_code == 1
    assert "entry 2" in result.stdout and "content was changed" in result.stdout


def test_audit_chain_detects_a_deleted_entry(gw, tmp_path):
    _chain(gw, tmp_path)
    with gw.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 2))
    verdict = audit.verify(gw.engine)
    assert not verdict.ok and verdict.first_bad == 3 and "missing" in verdict.reason


def test_audit_chain_detects_reordered_entries(gw, tmp_path):
    _chain(gw, tmp_path)
    with gw.engine.begin() as conn:  # swap entries 2 and 3, renumbering them to fit
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(seq=-2))
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(seq=2))
        conn.execute(update(audit_log).where(audit_log.c.seq == -2).values(seq=3))
    verdict = audit.verify(gw.engine)
    assert not verdict.ok and verdict.first_bad == 2


def test_audit_log_records_runs_endings_and_key_creation(gw, tmp_path):
    submit(gw, write_roster(tmp_path / "a.csv", [worker_row(i) for i in range(3)]))
    submit(gw, write_roster(tmp_path / "b.csv", [worker_row(0)]))
    gw.registry.create_api_key("15.05", "BKPSDM")
    actions = [e["action"] for e in reversed(audit.recent(gw.engine))]
    assert actions == ["run_applied", "run_applied", "enrollments_ended", "api_key_created"]
    # The log never holds a NIK or a name.
    with gw.engine.connect() as conn:
        dump = " ".join(r.details for r in conn.execute(select(audit_log)))
    assert worker_row(0)[0] not in dump and "Pekerja" not in dump


def _env_app(tmp_path, data_keys: str, index_key: str):
    return create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "CONFIG_FILE": None,
                       "DATA_KEYS": data_keys, "INDEX_KEY": index_key})


def test_rotation_re_encrypts_under_the_new_key_and_old_data_stays_readable(tmp_path):
    old = generate_keyring("old").to_env()
    index = old["JAMSOS_INDEX_KEY"]
    app = _env_app(tmp_path, old["JAMSOS_DATA_KEYS"], index)
    gw = app.extensions["jamsos"]
    submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(25)]))
    assert key_usage(gw.registry.engine) == {"old": 50}

    new = generate_keyring("new").to_env()["JAMSOS_DATA_KEYS"]
    both = _env_app(tmp_path, f"{new},{old['JAMSOS_DATA_KEYS']}", index)
    result = invoke(both, "keys", "rotate", "--batch-size", "10")
    assert result.exit_code == 0, result.output
    assert "25" in result.stdout
    # Not a terminal (a log, a CI job): the count is a line, not "\r" updates run together
    # ("10 baris / rows20 baris / rows..."); three batches in under 10 s: one line.
    assert "\r" not in result.output
    assert result.stderr.count("baris / rows") == 1, result.stderr
    status = invoke(both, "keys", "status").stdout
    assert "new" in status and "old" in status and "50 nilai" in status and " 0 nilai" in status

    only_new = _env_app(tmp_path, new, index)
    found = only_new.extensions["jamsos"].registry.find_worker(worker_row(7)[0])
    assert found["name"] == "Pekerja Nomor 7"
    assert [e["action"] for e in audit.recent(only_new.extensions["jamsos"].engine, 1)] == [
        "keys_rotated"]


def test_a_missing_or_wrong_key_stops_the_gateway_at_start(tmp_path):
    old = generate_keyring("old").to_env()
    index = old["JAMSOS_INDEX_KEY"]
    gw = _env_app(tmp_path, old["JAMSOS_DATA_KEYS"], index).extensions["jamsos"]
    submit(gw, write_roster(tmp_path / "r.csv", [worker_row(1)]))

    new = generate_keyring("new").to_env()["JAMSOS_DATA_KEYS"]
    with pytest.raises(KeyRingError, match="'old', which is not in JAMSOS_DATA_KEYS"):
        _ = _env_app(tmp_path, new, index).extensions["jamsos"].registry
    wrong = generate_keyring("old").to_env()["JAMSOS_DATA_KEYS"]  # same id, other bytes
    with pytest.raises(KeyRingError, match="does not open the stored data"):
        _ = _env_app(tmp_path, wrong, index).extensions["jamsos"].registry
    result = invoke(_env_app(tmp_path, wrong, index), "runs")
    assert result.exit_code == 1 and "refusing to start" in result.output


def test_an_apbd_budget_sync_is_receipted_and_audited(gw):
    from importlib.resources import files

    from gateway.roster.sync import sync_source
    from gateway.sources.loader import make_plugin_manager, source_catalog

    pm = make_plugin_manager(allow=["apbd"])
    sample = str(files("jamsos_apbd") / "samples" / "sipd_apbd_2025.csv")
    source = source_catalog(pm, {"apbd-sipd": {"path": sample}})["apbd-sipd"].create()
    result = sync_source(gw.registry, pm, source, today=date(2025, 6, 2), trigger="test")
    assert result.status == "succeeded"
    receipt = gw.registry.receipt(result.run_id)
    assert receipt["run_id"] == result.run_id and receipt["signature"]
    assert audit.recent(gw.engine, 1)[0]["subject"] == f"run:{result.run_id}"


def test_user_changes_and_logins_are_audited(gw):
    from gateway.store.users import authenticate, create_user, unlock

    engine = gw.registry.engine
    create_user(engine, "siti", "kata-sandi-panjang-123", role="viewer")
    assert authenticate(engine, "siti", "salah").outcome == "invalid"
    assert authenticate(engine, "siti", "kata-sandi-panjang-123").outcome == "ok"
    unlock(engine, "siti")
    actions = [e["action"] for e in reversed(audit.recent(engine, 4))]
    assert actions == ["user_created", "login_failed", "login", "user_unlocked"]
    dump = " ".join(e["details"] for e in audit.recent(engine, 4))
    assert "kata-sandi" not in dump and "salah" not in dump  # never a password
    assert audit.verify(engine).ok


def test_a_gateway_whose_keys_no_longer_open_the_data_answers_json(tmp_path):
    """Rotated by another process to a key this running gateway was never given: its API
    answered Flask's HTML 500; now a JSON 503 that says it is a key configuration fault."""
    old = generate_keyring("old").to_env()
    index = old["JAMSOS_INDEX_KEY"]
    running = _env_app(tmp_path, old["JAMSOS_DATA_KEYS"], index)
    gw = running.extensions["jamsos"]
    submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)]))
    key = gw.registry.create_api_key("15.05")

    new = generate_keyring("new").to_env()["JAMSOS_DATA_KEYS"]
    both = _env_app(tmp_path, f"{new},{old['JAMSOS_DATA_KEYS']}", index)
    assert invoke(both, "keys", "rotate").exit_code == 0

    lookup = running.test_client().post("/api/v1/workers/lookup",
                                         json={"nik": worker_row(1)[0]},
                                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert lookup.status_code == 503 and lookup.is_json
    assert lookup.json["error"] == "keys_misconfigured" and lookup.json["message_id"]


def test_keys_status_and_audit_verify_answer_on_a_backup_from_before_a_rotation(tmp_path):
    """A backup restored after its old key left JAMSOS_DATA_KEYS: the gateway refuses to
    serve it, but the two inspection commands still say what is there (they refused too)."""
    old = generate_keyring("k2025").to_env()
    config = {"INSTANCE_PATH": str(tmp_path / "i"), "CONFIG_FILE": None,
              "DATA_KEYS": old["JAMSOS_DATA_KEYS"], "INDEX_KEY": old["JAMSOS_INDEX_KEY"]}
    app = create_app(config)
    with app.app_context():
        submit(app.extensions["jamsos"],
               write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)]))
    new_key = generate_keyring("k2027").to_env()["JAMSOS_DATA_KEYS"]
    restored = create_app(dict(config, DATA_KEYS=new_key))  # the old key was dropped
    status = invoke(restored, "keys", "status")
    assert status.exit_code == 0, status.output
    assert re.search(r"k2025 +HILANG / MISSING +6 nilai", status.output)  # 3 NIKs, 3 names
    assert "k2025" in status.output and "not in JAMSOS_DATA_KEYS" in status.output
    chain = invoke(restored, "audit", "verify")
    assert chain.exit_code == 0 and "chain intact" in chain.output
    assert invoke(restored, "runs").exit_code != 0  # serving it is still refused


def test_a_receipt_key_being_written_by_another_process_is_waited_for(tmp_path):
    """Processes starting at once on a new instance: one writes the key, the others read it.
    A reader found it half-written ("not a PEM private key"): the first submission of one of
    four `jamsos` processes started together failed, now and then (test_faults)."""
    import threading

    from gateway.security.receipts import RECEIPT_KEY_FILE, load_signer, write_private_key

    instance = tmp_path / "new"
    instance.mkdir()
    theirs = tmp_path / "theirs.pem"
    write_private_key(theirs)
    path = instance / RECEIPT_KEY_FILE
    path.touch()  # created, not yet written: the moment a loser used to read it

    def finish() -> None:
        path.write_bytes(theirs.read_bytes())

    timer = threading.Timer(0.2, finish)
    timer.start()
    signer = load_signer({"INSTANCE_PATH": str(instance)})
    timer.join()
    assert signer.key_id == load_signer({"INSTANCE_PATH": str(instance)}).key_id
    assert not list(instance.glob(".receipt-key.pem.*"))  # no private copy left behind


# -- private files (issue 16, finding 10) ------------------------------------------------------


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_the_database_and_the_instance_folder_are_created_private(tmp_path):
    """jamsos.db was created 0644 (birth dates, wages, positions in clear), its -wal and -shm
    too, the instance folder 0755: readable by every local user."""
    import os

    old_umask = os.umask(0o022)  # the common default, which made them world-readable
    try:
        app = create_app({"INSTANCE_PATH": str(tmp_path / "inst"), "CONFIG_FILE": None})
        with app.app_context():
            gw = app.extensions["jamsos"]
            submit(gw, write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)]))
            instance = tmp_path / "inst"
            db_file = instance / "jamsos.db"
            with gw.engine.connect():  # an open connection keeps -wal and -shm in place
                assert _mode(instance) == 0o700
                assert _mode(db_file) == 0o600
                for suffix in ("-wal", "-shm"):
                    assert _mode(db_file.with_name(db_file.name + suffix)) == 0o600, suffix
                assert _mode(instance / "keys.json") == 0o600
                assert _mode(instance / "receipt-key.pem") == 0o600
            gw.engine.dispose()
    finally:
        os.umask(old_umask)


def test_an_existing_wider_instance_is_narrowed_at_start_and_said(tmp_path, caplog):
    import logging

    instance = tmp_path / "inst"
    first = create_app({"INSTANCE_PATH": str(instance), "CONFIG_FILE": None})
    with first.app_context():
        first.extensions["jamsos"].registry  # noqa: B018 - creates the database
        first.extensions["jamsos"].engine.dispose()
    db_file = instance / "jamsos.db"
    db_file.chmod(0o644)  # as an older release made them
    instance.chmod(0o755)
    caplog.set_level(logging.WARNING)
    again = create_app({"INSTANCE_PATH": str(instance), "CONFIG_FILE": None})
    with again.app_context():
        again.extensions["jamsos"].registry  # noqa: B018 - start-up
        again.extensions["jamsos"].engine.dispose()
    assert _mode(db_file) == 0o600 and _mode(instance) == 0o700
    said = caplog.text
    assert "instance folder owner-only (0700)" in said and "database owner-only (0600)" in said
    assert "jamsos.db" in said


# -- stale runs (issue 16, finding 10) ---------------------------------------------------------


def _running_run(gw, owner: str | None, *, hours_ago: float = 0) -> int:
    from datetime import UTC, datetime, timedelta

    from gateway.store.tables import runs

    run_id = gw.registry.start_run(agency="15.05", source="upload", trigger="test")
    with gw.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            owner=owner, started_at=datetime.now(UTC) - timedelta(hours=hours_ago)))
    return run_id


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_of_a_killed_process_is_failed_at_once_and_audited(app, gw, backend):
    """A run of a SIGKILLed process stayed `running` for six hours (Registry.mark_interrupted
    went by age alone); now its owner's death is seen by the next sweep, minutes or less."""
    import signal
    import subprocess
    import sys

    from gateway.store.liveness import owner_alive, process_owner

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = process_owner(child.pid)
    run_id = _running_run(gw, owner)
    assert owner_alive(owner) and gw.registry.mark_interrupted() == 0  # alive: left alone
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert owner_alive(owner) is False
    assert gw.registry.mark_interrupted() == 1
    run = gw.registry.get_run(run_id)
    assert run["status"] == "failed" and run["error"].startswith("interrupted: its process ended")
    assert [e["action"] for e in audit.recent(gw.engine, 1)] == ["run_interrupted"]
    assert invoke(app, "audit", "verify").exit_code == 0  # a swept run is audited


def test_the_next_run_sweeps_and_a_reused_pid_is_not_the_owner(gw):
    import os

    from gateway.store.liveness import process_owner

    mine = process_owner()
    reused = mine.rsplit("|", 1)[0] + "|1"  # this pid, but a process started at another time
    run_id = _running_run(gw, reused)
    gw.registry.start_run(agency="15.05", source="upload", trigger="test")  # sweeps first
    assert gw.registry.get_run(run_id)["status"] == "failed"
    assert str(os.getpid()) in mine


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_live_long_run_is_never_failed_and_a_foreign_one_only_when_old(gw, backend):
    from datetime import UTC, datetime, timedelta

    from gateway.store.liveness import process_owner

    mine = _running_run(gw, process_owner(), hours_ago=30)  # this very process, 30 h in
    foreign = _running_run(gw, "elsewhere|b|pid:[1]|4242|99", hours_ago=5)
    legacy = _running_run(gw, None, hours_ago=5)  # started before owners were recorded
    assert gw.registry.mark_interrupted() == 0
    later = datetime.now(UTC) + timedelta(hours=2)  # the clock driven on: now 7 h old
    assert gw.registry.mark_interrupted(now=later) == 2
    assert gw.registry.get_run(mine)["status"] == "running"
    assert {gw.registry.get_run(r)["status"] for r in (foreign, legacy)} == {"failed"}


def test_a_sigkilled_submit_is_failed_by_the_next_command_not_six_hours_later(tmp_path):
    """End to end with real `jamsos` processes: a submit killed mid-apply left its run
    `running`; the next command (any process start sweeps) fails it as interrupted."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time
    from pathlib import Path

    jamsos = str(Path(sys.executable).with_name("jamsos"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(tmp_path / "inst"), JAMSOS_CONFIG_FILE="")
    roster = write_roster(tmp_path / "big.csv", [worker_row(i) for i in range(9_000)])
    proc = subprocess.Popen([jamsos, "roster", "submit", str(roster), "--agency", "15.05"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db_file = tmp_path / "inst" / "jamsos.db"

    def statuses() -> list[str]:
        try:
            with sqlite3.connect(db_file, timeout=5) as db:
                return [r[0] for r in db.execute("SELECT status FROM runs")]
        except sqlite3.Error:  # not created yet
            return []

    deadline = time.monotonic() + 60
    while statuses() != ["running"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert statuses() == ["running"] and proc.poll() is None, "the run never showed running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert statuses() == ["running"]  # the trace a killed process leaves
    listed = subprocess.run([jamsos, "runs", "--json"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert statuses() == ["failed"]
    with sqlite3.connect(db_file) as db:
        error = db.execute("SELECT error FROM runs").fetchone()[0]
    assert error.startswith("interrupted: its process ended"), error
