"""Crash safety and concurrency of submissions, with real `jamsos` processes on SQLite.

A submission killed with SIGKILL at a random moment must leave the registry either exactly as
before or fully applied; the retry completes and duplicates nothing. Submissions running at
the same time are serialized by the database, never interleaved.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
KILLS = int(os.environ.get("JAMSOS_CRASH_REPETITIONS", "12"))


def state(instance: Path) -> tuple:
    """Everything a submission changes, as one comparable value."""
    with sqlite3.connect(instance / "jamsos.db") as db:
        return (
            db.execute("SELECT count(*) FROM workers").fetchone()[0],
            tuple(db.execute("SELECT status, count(*), sum(wage) FROM enrollments "
                             "GROUP BY status ORDER BY status").fetchall()),
            db.execute("SELECT count(*) FROM enrollment_history").fetchone()[0],
            db.execute("SELECT count(*) FROM runs WHERE status = 'succeeded'").fetchone()[0],
        )


def env_for(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="", JAMSOS_BATCH_SIZE="200")
    return env


def jamsos(instance: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([JAMSOS, *args], env=env_for(instance), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def rosters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rosters")
    a = write_roster(folder / "a.csv", [worker_row(i) for i in range(3000)])
    # B: 500 leave, 1000 get a raise, 1500 join.
    b_rows = [worker_row(i, wage=4_000_000) for i in range(500, 1500)]
    b_rows += [worker_row(i) for i in range(1500, 4500)]
    b = write_roster(folder / "b.csv", b_rows)
    return a, b


@pytest.fixture(scope="module")
def template(tmp_path_factory, rosters):
    """An instance with roster A applied, and the state roster B must lead to."""
    base = tmp_path_factory.mktemp("template")
    assert jamsos(base, "roster", "submit", str(rosters[0]), "--agency", "15.05").wait() == 0
    before = state(base)
    full = tmp_path_factory.mktemp("full")
    shutil.copytree(base, full, dirs_exist_ok=True)
    started = time.monotonic()
    assert jamsos(full, "roster", "submit", str(rosters[1]), "--agency", "15.05").wait() == 0
    duration = time.monotonic() - started
    return base, before, state(full), duration


def test_sigkill_at_random_moments_leaves_before_or_after_and_the_retry_completes(
    tmp_path, rosters, template
):
    base, before, after, duration = template
    rng = random.Random(20261121)
    seen = {"before": 0, "after": 0}
    for attempt in range(KILLS):
        instance = tmp_path / f"kill{attempt}"
        shutil.copytree(base, instance)
        proc = jamsos(instance, "roster", "submit", str(rosters[1]), "--agency", "15.05")
        time.sleep(rng.uniform(0.05, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = state(instance)
        assert now in (before, after), f"attempt {attempt}: half-applied state {now}"
        seen["before" if now == before else "after"] += 1
        retry = jamsos(instance, "roster", "submit", str(rosters[1]), "--agency", "15.05")
        assert retry.wait() == 0, retry.stderr.read()  # type: ignore[union-attr]
        assert state(instance) == after  # applied exactly once: nothing duplicated
    # The kills must have landed mid-apply as well as after it, or the test proved little.
    print(f"\n{KILLS} kills: {seen}")
    assert seen["before"] > 0


def test_different_agencies_at_once_all_succeed(tmp_path, rosters):
    instance = tmp_path / "concurrent"
    assert jamsos(instance, "db", "upgrade").wait() == 0
    codes = ["15.05", "31", "16", "17"]
    procs = [jamsos(instance, "roster", "submit", str(rosters[i % 2]), "--agency", code)
             for i, code in enumerate(codes)]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    with sqlite3.connect(instance / "jamsos.db") as db:
        per_agency = dict(db.execute("SELECT agency, count(*) FROM enrollments GROUP BY agency"))
    assert per_agency == {"15.05": 3000, "31": 4000, "16": 3000, "17": 4000}


def test_two_submissions_of_one_agency_are_serialized(tmp_path, rosters):
    instance = tmp_path / "same"
    assert jamsos(instance, "db", "upgrade").wait() == 0
    # Whichever goes second may end 1,500 of 4,000 workers (a.csv), over the share a submit
    # must confirm (issue 16), and which one is unknown in advance: the guard is off here.
    env = {**env_for(instance), "JAMSOS_ENDING_CONFIRM_SHARE": "1"}
    first, second = (subprocess.Popen([JAMSOS, "roster", "submit", str(path), "--agency", "15.05"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      text=True) for path in rosters[:2])  # fmt: skip
    assert (first.wait(), second.wait()) == (0, 0)
    with sqlite3.connect(instance / "jamsos.db") as db:
        runs = db.execute("SELECT filename, new, changed, unchanged, ended FROM runs "
                          "ORDER BY finished_at").fetchall()
        active = db.execute("SELECT count(*) FROM enrollments WHERE status='active'").fetchone()
    # Whichever went second saw the first completely applied: its counts add up exactly.
    if runs[0][0] == "a.csv":
        assert runs[1] == ("b.csv", 1500, 1000, 1500, 500) and active[0] == 4000
    else:
        assert runs[1] == ("a.csv", 500, 1000, 1500, 1500) and active[0] == 3000
