"""The daily quota (issue 19): a pass that hits it stops cleanly, does nothing more that
day, and the next day resumes where it stopped, never re-asking anyone already answered;
and `jamsos verify` as an operator and a scheduler run it, in real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from jamsos_dukcapil.server import DukcapilServer

from gateway.clock import WIB
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.store import verification as store
from gateway.verify.run import verify_pending
from tests.helpers.roster import worker_row, write_roster
from tests.helpers.verify import PASSWORD_ENV, nik_of, population, verification

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "rahasia-demo")
    with DukcapilServer(population(range(12))) as s:
        yield s


def test_a_quota_stops_the_pass_and_the_next_day_resumes_where_it_stopped(gw, tmp_path, server):
    path = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(12)])
    submit_roster(gw.registry, path, agency=resolve_agency("15.05"), today=date(2025, 6, 2),
                  trigger="test", batch_size=50)  # fmt: skip
    settings = verification(server, batch_size=3)
    server.quota = 5

    def run(now=None, **kw):
        return verify_pending(gw.engine, gw.keyring, gw.plugins, settings, now=now, **kw)

    first = run()
    assert (first.asked, first.stopped, first.code) == (5, "quota", "05")
    # Resumes the next day (00:05 WIB), not in a loop of refused calls.
    resume = first.resume_at.astimezone(WIB)
    assert (resume.date(), resume.time()) == (datetime.now(WIB).date() + timedelta(days=1),
                                              time(0, 5))
    asked = len(server.requests)
    same_day = run()
    assert same_day.stopped == "paused" and len(server.requests) == asked  # nothing asked

    server.new_day()
    second = run(now=first.resume_at + timedelta(minutes=1))
    assert (second.asked, second.stopped) == (5, "quota")
    server.new_day()
    third = run(now=second.resume_at + timedelta(minutes=1))
    assert (third.asked, third.stopped) == (2, None)

    codes = defaultdict(list)
    for nik, code in server.answered:
        codes[nik].append(code)
    assert set(codes) == {nik_of(i) for i in range(12)}
    for nik, got in codes.items():
        # Answered once; asked before only when the quota refused it.
        assert got[-1] == "01" and set(got[:-1]) <= {"05"}, (nik, got)
    assert sum(len(got) for got in codes.values()) == 12 + 2
    # In worker order: the second day started at the first one not answered.
    firsts = [nik for nik, code in server.answered if code == "01"]
    assert firsts == [nik_of(i) for i in range(12)]
    with gw.engine.connect() as conn:
        assert store.read_state(conn)["stopped"] is None  # the pause is lifted


@pytest.fixture
def env(tmp_path, server):
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[verification]\nprovider = "dukcapil"\nthreshold = 90\nbatch_size = 2\n'
        f'[verification.dukcapil]\nurl = "{server.url}"\nuser_id = "jamsos"\n'
        f'password = "$env:{PASSWORD_ENV}"\ncaller_ip = "127.0.0.1"\ntimeout = 2\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(tmp_path / "instance"), JAMSOS_CONFIG_FILE=str(config))
    env[PASSWORD_ENV] = "rahasia-demo"
    return env


def jamsos(env, *args):
    return subprocess.run([JAMSOS, *args], env=env, capture_output=True, text=True, timeout=120)


def test_jamsos_verify_run_pauses_at_the_quota_and_lists_problems(env, tmp_path, server):
    server.set_status(nik_of(1), "deceased")
    roster = write_roster(tmp_path / "pegawai.csv", [worker_row(i) for i in range(4)])
    submitted = jamsos(env, "roster", "submit", "--agency", "15.05", str(roster))
    assert submitted.returncode == 0, submitted.stderr
    assert server.requests == []  # a command-line submit leaves verification to `verify run`
    server.quota = 3
    first = jamsos(env, "verify", "run")
    assert first.returncode == 0, first.stderr
    assert "Kuota harian" in first.stdout and "daily quota" in first.stdout
    assert "Dilanjutkan / resumes" in first.stdout
    again = jamsos(env, "verify", "run", "--json")
    assert json.loads(again.stdout)["stopped"] == "paused"
    server.new_day()
    forced = jamsos(env, "verify", "run", "--force", "--json")
    assert json.loads(forced.stdout)["answers"] == {"match": 1}
    problems = jamsos(env, "verify", "problems", "--run", "1")
    assert "baris/row 3" in problems.stdout and "deceased" in problems.stdout
    assert "meninggal" in problems.stdout and "deceased" in problems.stdout
    status = jamsos(env, "verify", "status", "--json")
    (row,) = json.loads(status.stdout)["agencies"]
    assert (row["agency"], row["match"], row["deceased"], row["pending"]) == ("15.05", 3, 1, 0)


def test_jamsos_verify_run_says_when_verification_is_off_or_refused(env, tmp_path, server):
    off = dict(env, JAMSOS_CONFIG_FILE="")
    result = jamsos(off, "verify", "run")
    assert result.returncode == 2 and "not configured" in result.stderr
    roster = write_roster(tmp_path / "pegawai.csv", [worker_row(i) for i in range(2)])
    jamsos(env, "roster", "submit", "--agency", "15.05", str(roster))
    server.state.password = "diganti"
    refused = jamsos(env, "verify", "run")
    assert refused.returncode == 3
    assert "ditolak" in refused.stdout and "refused" in refused.stdout
    # A secret reference that does not resolve is the operator's to fix, said as such.
    server.state.password = "rahasia-demo"
    unset = {k: v for k, v in env.items() if k != PASSWORD_ENV}
    missing = jamsos(unset, "verify", "run", "--force")
    assert missing.returncode == 3 and PASSWORD_ENV in missing.stdout, missing.stdout
    assert server.requests == [nik_of(0)]  # only the refused login was ever sent
