"""A sync stopped from outside rolls back and is recorded failed with the cause, at once
(issue 20, item 1).

Before: Airflow marking a task failed sent SIGTERM; the sync either carried on and committed
"succeeded" while Airflow showed failed, or died leaving its run `running` for hours. Now a
real `jamsos sync` process is sent SIGTERM while its apply transaction is open (its first
progress line is printed from inside it): it exits 143, nothing of the roster is in the
registry, and its run is already `failed` with "dihentikan oleh SIGTERM / stopped by SIGTERM".
A stop that arrives during the commit itself is held until the commit returns: the run then
stays `succeeded`, as applied (`commit_gate`, checked in-process with a real signal).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.domain.agencies import resolve_agency
from gateway.roster.cancel import Stopped, commit_gate, stop_on_signals
from gateway.roster.submit import submit_roster
from gateway.store.tables import enrollments, runs
from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
ROWS = 9_000  # seconds of apply in batches of 200; far under the size that starts workers


def _count(gw, table) -> int:
    with gw.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_sigterm_mid_apply_rolls_back_and_records_the_cause(gw, tmp_path: Path) -> None:
    gw.ensure_ready()
    roster = write_roster(tmp_path / "honorer.csv", (worker_row(i) for i in range(ROWS)))
    (tmp_path / "sources.toml").write_text(
        f'[sources.roster-15-05]\ntype = "regional-roster"\nagency = "15.05"\npath = "{roster}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=gw.config["INSTANCE_PATH"], JAMSOS_CONFIG_FILE="",
               JAMSOS_SOURCES_FILE=str(tmp_path / "sources.toml"), JAMSOS_BATCH_SIZE="200")
    proc = subprocess.Popen([JAMSOS, "sync", "roster-15-05"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while "baris / rows" not in proc.stderr.readline():  # the first batch is applied
            assert proc.poll() is None and time.monotonic() < deadline, "no progress seen"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, (out, err)
    assert "dihentikan oleh SIGTERM / stopped by SIGTERM" in err
    assert "nothing was applied" in err
    with gw.engine.connect() as conn:
        run = conn.execute(select(runs)).mappings().one()
    # Recorded by the stopped process itself, not by a later sweep.
    assert run["status"] == "failed" and run["finished_at"] is not None
    assert run["error"] == "dihentikan oleh SIGTERM / stopped by SIGTERM"
    assert _count(gw, enrollments) == 0
    assert gw.registry.get_cursor("roster-15-05") is None
    # Safe to retry: the next sync applies it all.
    again = subprocess.run([JAMSOS, "sync", "roster-15-05", "--json"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert _count(gw, enrollments) == ROWS


# A scheduler's task process as Airflow 3 runs one: its SIGTERM handler only calls the
# operator's on_kill() (airflow.sdk.execution_time.task_runner), so before issue 20 the sync
# carried on and committed after Airflow had given up on it.
AIRFLOW_LIKE_TASK = """
import signal, sys
from datetime import date
from gateway.app import create_app
from gateway.roster.sync import sync_source

signal.signal(signal.SIGTERM, lambda signum, frame: print("on_kill", file=sys.stderr))
app = create_app()
with app.app_context():
    gw = app.extensions["jamsos"]
    source = gw.sources()["roster-15-05"].create()
    def progress(rows, fraction):
        print(f"{rows} baris / rows", file=sys.stderr, flush=True)
    sync_source(gw.registry, gw.plugins, source, today=date.today(), trigger="airflow",
                progress=progress)
print("finished", file=sys.stderr)
"""


def test_sigterm_stops_a_sync_in_an_airflow_like_task(gw, tmp_path: Path) -> None:
    gw.ensure_ready()
    roster = write_roster(tmp_path / "honorer.csv", (worker_row(i) for i in range(ROWS)))
    (tmp_path / "sources.toml").write_text(
        f'[sources.roster-15-05]\ntype = "regional-roster"\nagency = "15.05"\npath = "{roster}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=gw.config["INSTANCE_PATH"], JAMSOS_CONFIG_FILE="",
               JAMSOS_SOURCES_FILE=str(tmp_path / "sources.toml"), JAMSOS_BATCH_SIZE="200")
    proc = subprocess.Popen([sys.executable, "-c", AIRFLOW_LIKE_TASK], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while "baris / rows" not in proc.stderr.readline():
            assert proc.poll() is None and time.monotonic() < deadline, "no progress seen"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "finished" not in err and "Stopped: dihentikan oleh SIGTERM" in err, err[-2000:]
    assert proc.returncode != 0
    with gw.engine.connect() as conn:
        run = conn.execute(select(runs)).mappings().one()
    assert run["status"] == "failed" and run["trigger"] == "airflow"
    assert run["error"] == "dihentikan oleh SIGTERM / stopped by SIGTERM"
    assert _count(gw, enrollments) == 0


def test_a_stop_during_the_commit_waits_for_it_and_keeps_the_run(gw, tmp_path: Path) -> None:
    roster = write_roster(tmp_path / "r.csv", (worker_row(i) for i in range(5)))
    muaro_jambi = resolve_agency("15.05")

    def stop_at_commit(conn) -> None:  # on_success: the transaction's last writes
        os.kill(os.getpid(), signal.SIGTERM)  # before the gate closes: raised at once

    # A signal before the gate closes: raised there, the transaction rolled back.
    with stop_on_signals(), pytest.raises(Stopped) as stopped:
        submit_roster(gw.registry, roster, agency=muaro_jambi, today=date(2026, 12, 1),
                      trigger="test", on_success=lambda conn, _run: stop_at_commit(conn))
    assert not stopped.value.committed
    assert gw.registry.get_run(1)["status"] == "failed"
    assert _count(gw, enrollments) == 0

    # A signal after the gate closed (during the COMMIT): held, raised once it committed.
    with stop_on_signals(), pytest.raises(Stopped) as stopped, commit_gate() as gate:
        gate.close()
        os.kill(os.getpid(), signal.SIGTERM)
        reached = True  # the signal did not interrupt the commit's side of the gate
    assert reached and stopped.value.committed


def test_without_the_handler_a_stop_is_the_default_one() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
