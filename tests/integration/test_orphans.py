"""A SIGKILLed submit leaves no preparation process behind (issue 16, finding 6).

Before: in 26 of 40 kills of `jamsos roster submit` on a large file, worker processes stayed
alive, one of 229 MB for more than 7 minutes. A real `jamsos` process submits a roster large
enough for the worker pool; it is killed once its workers exist, and every process it had
started (the fork server, the workers, the resource tracker) must be gone within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _parents() -> dict[int, int]:
    """{pid: parent pid} of every live (not zombie) process."""
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (command) "
        if fields[0] != "Z":
            found[int(entry)] = int(fields[1])
    return found


def _descendants(root: int) -> dict[int, int]:
    """{pid: depth below root} of root's live descendants."""
    parents = _parents()
    depth: dict[int, int] = {root: 0}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in depth and pid not in depth:
                depth[pid] = depth[parent] + 1
                grew = True
    del depth[root]
    return depth


def test_a_killed_submit_leaves_no_worker_processes(tmp_path: Path) -> None:
    # ~5 MB: over PARALLEL_MIN_BYTES (4 MB), so worker processes prepare it.
    roster = write_roster(tmp_path / "large.csv", (worker_row(i % 9_000) for i in range(45_000)))
    assert roster.stat().st_size > 4_000_000
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(tmp_path / "instance"), JAMSOS_CONFIG_FILE="",
               JAMSOS_PREPARE_WORKERS="2")  # fmt: skip
    proc = subprocess.Popen(
        [JAMSOS, "roster", "submit", str(roster), "--agency", "15.05"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    seen: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 60
        # The workers are the fork server's children: the submit's grandchildren.
        while not any(d >= 2 for d in seen.values()):
            assert proc.poll() is None, "the submit ended before its workers were seen"
            assert time.monotonic() < deadline, "no worker process appeared"
            seen.update(_descendants(proc.pid))
            time.sleep(0.02)
        time.sleep(0.3)  # the workers are preparing chunks now
        seen.update(_descendants(proc.pid))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 5
    while (alive := set(seen) & set(_parents())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"{len(alive)} of {len(seen)} processes outlived the killed submit"
