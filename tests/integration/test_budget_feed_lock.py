"""Concurrent syncs of one budget source apply it once (issue 20, item 4).

Before: three `jamsos sync apbd-sipd` started at once on PostgreSQL each replaced the same
APBD lines; one failed with a UniqueViolation, and in another round the export was applied
twice (two succeeded runs, each with its receipt). Now the feed takes the APBD writers' lock
as its transaction starts and asks, under it, whether another sync applied the same input
meanwhile (`budget/feed.py`, as `roster/run.py` does for rosters).

Real processes on a throwaway PostgreSQL, nothing mocked. The export is made large (about
60,000 lines, nearly all of other accounts, read and ignored) so each sync is still reading
it when the others start theirs: all three record a run and meet at the lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.store.tables import budget_allocations, runs

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
SIPD_SAMPLE = Path(str(files("jamsos_apbd") / "samples" / "sipd_apbd_2025.csv"))
FILLER_LINES = 60_000


@pytest.fixture
def backend() -> str:
    return "postgresql"


def _large_export(path: Path) -> Path:
    lines = SIPD_SAMPLE.read_text("utf-8").splitlines()
    with path.open("w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
        for i in range(FILLER_LINES):  # salary lines: read, checked, ignored
            out.write(f"15.05;Kabupaten Muaro Jambi;2025;4.01.01.2.01.{i:04d};"
                      f"5.1.01.01.01.0001;Belanja Gaji Pokok PNS;1.000.000\n")
    return path


def test_three_concurrent_syncs_of_one_export_apply_it_once(gw, tmp_path: Path) -> None:
    gw.ensure_ready()  # the instance's key files, which the processes share
    export = _large_export(tmp_path / "sipd.csv")
    (tmp_path / "sources.toml").write_text(f'[sources.apbd-sipd]\npath = "{export}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=gw.config["INSTANCE_PATH"], JAMSOS_CONFIG_FILE="",
               JAMSOS_DATABASE_URL=gw.config["DATABASE_URL"],
               JAMSOS_SOURCES_FILE=str(tmp_path / "sources.toml"))  # fmt: skip
    procs = [
        subprocess.Popen([JAMSOS, "sync", "apbd-sipd", "--json"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out))

    applied = [r for r in results if r["status"] == "succeeded"]
    assert len(applied) == 1, results
    first = applied[0]["report"]["run_id"]
    others = [r for r in results if r["status"] != "succeeded"]
    for other in others:  # each reports the one that applied it
        assert other["status"] == "nothing_new", other
        assert other["message_en"] == f"already applied by run {first}"
    with gw.engine.connect() as conn:
        recorded = conn.execute(select(runs.c.id, runs.c.status)
                                .where(runs.c.source == "apbd-sipd")).all()  # fmt: skip
        lines = conn.execute(select(budget_allocations.c.run_id)).scalars().all()
    # One run recorded: the waiting ones were discarded (or never started), none failed.
    assert [tuple(r) for r in recorded] == [(first, "succeeded")]
    assert lines and set(lines) == {first}
