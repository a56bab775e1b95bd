"""Issue 16, findings 3 and 4: an upload no longer dies at gunicorn's 30 s, and no roster is
left in plain text by a killed server.

* An API upload is answered 202 with its run's URL and applied in the background; the run
  ends as the synchronous one did (report, receipt, the allocation on the receipt).
* The upload is sealed in the instance folder, never in the system temp folder; a SIGKILL of
  a real `jamsos serve` (gunicorn, its workers and their preparation processes) in the
  middle of applying one leaves no NIK of the file readable on disk, and the restart removes
  the spool and fails the interrupted run, so the client knows to send it again.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gateway.demo.rosters import generate_roster, write_csv
from tests.helpers.roster import worker_row, write_roster


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


def _post(client, key: str, path: Path, query: str = "", **form: str):
    with open(path, "rb") as fh:
        return client.post(f"/api/v1/agencies/15.05/rosters{query}",
                           headers={"Authorization": f"Bearer {key}"},
                           data={"file": (fh, path.name), **form},
                           content_type="multipart/form-data")  # fmt: skip


def _follow(client, key: str, url: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = client.get(url, headers={"Authorization": f"Bearer {key}"}).json
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"{url} still running after {seconds} s")


def test_an_upload_is_accepted_then_applied_as_a_synchronous_one(client, gw, tmp_path):
    key = gw.registry.create_api_key("15.05")
    rows = [worker_row(i) for i in range(30)]
    rows[3][5] = "Rp 0"
    roster = write_roster(tmp_path / "r.csv", rows)
    accepted = _post(client, key, roster, fiscal_year="2026", allocation="jkk=9.000.000")
    assert accepted.status_code == 202, accepted.json
    url = accepted.headers["Location"]
    assert url == accepted.json["run_url"] == f"/api/v1/runs/{accepted.json['run_id']}"
    run = _follow(client, key, url)
    assert run["status"] == "succeeded"
    assert (run["rows"], run["accepted"], run["rejected"]) == (30, 29, 1)
    assert run["changes"]["new"] == 29 and run["problems"][0]["row"] == 5
    assert run["receipt"]["declared_allocation"]["fiscal_year"] == 2026
    assert not list((Path(gw.config["INSTANCE_PATH"]) / "uploads").iterdir())  # spool gone
    # The same file again: a replay, answered at once as before.
    again = _post(client, key, roster)
    assert again.status_code == 200 and again.json["replayed"] is True
    # Unconfirmed endings in the background: the run the client follows says so.
    partial = write_roster(tmp_path / "p.csv", rows[:5])
    refused = _follow(client, key, _post(client, key, partial).headers["Location"])
    assert refused["status"] == "failed" and refused["endings"]["would_end"] == 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    jamsos = str(Path(sys.executable).with_name("jamsos"))
    server = subprocess.Popen([jamsos, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=log.open("ab"), stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    raise AssertionError(log.read_text())


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = "jamsosboundary7d1f"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()  # fmt: skip
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary


def _holding(folder: Path, needle: bytes) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and needle in path.read_bytes():
                found.append(str(path))
        except OSError:
            pass
    return found


def test_a_sigkill_mid_upload_leaves_no_plaintext_and_the_restart_cleans_up(tmp_path):
    instance, tmp = tmp_path / "instance", tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="", TMPDIR=str(tmp))
    jamsos = str(Path(sys.executable).with_name("jamsos"))
    made = subprocess.run([jamsos, "apikeys", "create", "--agency", "15.05"], env=env,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    key = next(w for w in made.split() if w.startswith("jgw_"))
    roster = tmp_path / "besar.csv"
    write_csv(roster, generate_roster(60_000, seed=16, regency="15.05"))
    nik = roster.read_text().splitlines()[1].split(";")[0].strip('"')
    assert len(nik) == 16 and nik.isdigit()

    port, log = _free_port(), tmp_path / "serve.log"
    server = _serve(env, port, log)
    try:
        body, boundary = _multipart(roster)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/agencies/15.05/rosters", data=body, method="POST",
            headers={"Authorization": f"Bearer {key}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 202
            run_id = json.load(answer)["run_id"]
        uploads = instance / "uploads"
        for _ in range(300):  # until the background apply is under way
            if (uploads / f"run{run_id}.progress").exists():
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the apply never started")
        assert list(uploads.glob(f"upload-*-run{run_id}-*.spool"))  # sealed, in the instance
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    time.sleep(0.5)
    # Nothing holds the NIK in plain text: not the temp folder, not the instance folder.
    assert _holding(tmp, nik.encode()) == []
    assert _holding(instance, nik.encode()) == []
    assert list(tmp.glob("roster-*")) == []

    server = _serve(env, port, log)  # the restart sweeps the dead server's spool
    try:
        assert not list((instance / "uploads").iterdir())  # spool and progress removed
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/runs/{run_id}",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            run = json.load(answer)
        assert run["status"] == "failed" and run["error"].startswith("interrupted")
        assert "interrupted uploads removed" in log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
