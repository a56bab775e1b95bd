"""A SIGKILLed submit leaves no preparation process behind (issue 16, finding 6).

Before: in 26 of 40 kills of `jamsos roster submit` on a large file, worker processes stayed
alive, one of 229 MB for more than 7 minutes. A real `jamsos` process submits a roster large
enough for the worker pool; it is killed once its workers exist, and every process it had
started (the fork server, the workers, the resource tracker) must be gone within seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
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


def test_a_killed_server_leaves_no_worker_processes(tmp_path: Path) -> None:
    # Under `jamsos serve` the pool's owner is a gunicorn worker. Each child of the fork server
    # holds the pipe that tells the fork server its client is gone, so a worker that waited
    # for its parent (the fork server) to die kept both alive: before the fix, the fork server
    # and a preparation worker outlived a SIGKILL of the master and its workers.
    from tests.integration.test_async_upload import _free_port, _multipart, _serve

    roster = write_roster(tmp_path / "large.csv", (worker_row(i % 9_000) for i in range(45_000)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(tmp_path / "instance"), JAMSOS_CONFIG_FILE="",
               JAMSOS_PREPARE_WORKERS="2", TMPDIR=str(tmp_path))  # fmt: skip
    created = subprocess.run([JAMSOS, "apikeys", "create", "--agency", "15.05"], env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    key = next(w for w in created.stdout.split() if w.startswith("jgw_"))
    port = _free_port()
    server = _serve(env, port, tmp_path / "serve.log")
    seen: dict[int, int] = {}
    try:
        body, boundary = _multipart(roster)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/agencies/15.05/rosters", data=body, method="POST",
            headers={"Authorization": f"Bearer {key}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as answer:
            assert answer.status == 202
        deadline = time.monotonic() + 60
        # master -> gunicorn worker -> fork server -> preparation worker
        while not any(d >= 3 for d in seen.values()):
            assert time.monotonic() < deadline, "no preparation worker appeared"
            seen.update(_descendants(server.pid))
            time.sleep(0.02)
        seen.update(_descendants(server.pid))
    finally:
        for pid in [server.pid, *(p for p, d in seen.items() if d == 1)]:  # master, workers
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.wait()
    deadline = time.monotonic() + 5
    while (alive := set(seen) & set(_parents())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"{len(alive)} of {len(seen)} processes outlived the killed server"
