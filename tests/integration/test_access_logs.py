"""No NIK in access logs (issue 16, finding 7), with a real `jamsos serve` (gunicorn).

`GET /api/v1/workers/{nik}` put the NIK in the URL, and gunicorn logged it, also when the
request was refused (401). The lookup is now a POST with the NIK in the JSON body; the old GET
answers 410 and looks nothing up, and the access log masks any 16-digit run a client still
puts in a URL. The dashboard's NIK search posts its form, so no NIK reaches a URL there either.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gateway.security.accesslog import mask_niks
from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
TEMPLATES = Path(__file__).parents[2] / "gateway" / "web" / "templates"


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(instance), JAMSOS_CONFIG_FILE="")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, method: str = "GET", body: dict | None = None,
          token: str | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with _DIRECT.open(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code
    except urllib.error.URLError:
        return 0  # not listening yet


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for localhost


@pytest.fixture
def served(tmp_path):
    """A gateway under `jamsos serve` with one agency's roster applied and its API key;
    yields (base URL, key, log file) and stops the server afterwards."""
    env = _env(tmp_path / "instance")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(3)])
    subprocess.run([JAMSOS, "roster", "submit", str(roster), "--agency", "15.05"], env=env,
                   check=True, capture_output=True, timeout=120)
    key = subprocess.run([JAMSOS, "apikeys", "create", "--agency", "15.05"], env=env,
                         check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([JAMSOS, "serve", "--port", str(port), "--workers", "1"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _call(f"{base}/healthz") != 200:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "jamsos serve did not start"
            time.sleep(0.3)
        yield base, key, log
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_a_lookup_a_401_and_a_404_leave_no_nik_in_the_access_log(served):
    base, key, log = served
    nik, unknown = worker_row(1)[0], "1505010101800099"
    lookup = f"{base}/api/v1/workers/lookup"
    assert _call(lookup, "POST", {"nik": nik}, key) == 200
    assert _call(lookup, "POST", {"nik": nik}) == 401
    assert _call(lookup, "POST", {"nik": nik}, "jgw_00000000_forged") == 401
    assert _call(lookup, "POST", {"nik": unknown}, key) == 404
    # The old route, as a client not yet updated calls it: refused, and still not logged.
    assert _call(f"{base}/api/v1/workers/{nik}", token=key) == 410
    assert _call(f"{base}/api/v1/workers/{nik}") == 401
    assert _call(f"{base}/dashboard/agencies/15.05?nik={unknown}") in (200, 302)
    time.sleep(0.5)  # the access log line is written after the answer
    text = log.read_text()
    assert text.count("POST /api/v1/workers/lookup") == 4, text
    assert len(re.findall(r"GET /api/v1/workers/150501\*{6}\d{4}", text)) == 2, text
    for secret in (nik, unknown):
        assert secret not in text


def test_masking_keeps_a_nik_s_region_and_last_four_digits_only():
    masked = mask_niks("/api/v1/workers/1505010101800099?x=1")
    assert masked == "/api/v1/workers/150501******0099?x=1"
    # Longer digit runs are not NIKs (a run id, a timestamp): left as they are.
    assert mask_niks("/runs/12345678901234567") == "/runs/12345678901234567"


def test_no_dashboard_form_sends_a_nik_in_its_url():
    """A GET form puts its fields in the query string, which access logs keep."""
    forms = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
    seen = 0
    for template in TEMPLATES.rglob("*.html"):
        for form in forms.findall(template.read_text()):
            if re.search(r"name=\"nik\"", form):
                seen += 1
                assert re.match(r"<form\b[^>]*method=\"post\"", form, re.I), template.name
    assert seen >= 1  # the agency page's search


def test_the_development_server_s_log_masks_a_nik_too(app, caplog):
    """werkzeug's server (`flask run`) logs each request line through the `werkzeug` logger."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    nik = worker_row(1)[0]
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            assert _call(f"http://127.0.0.1:{server.port}/api/v1/workers/{nik}") == 401
            assert _call(f"http://127.0.0.1:{server.port}/api/v1/workers/lookup", "POST",
                         {"nik": nik}) == 401  # fmt: skip
    finally:
        server.shutdown()
        thread.join()
    logged = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any(f"/api/v1/workers/{nik[:6]}******{nik[-4:]}" in m for m in logged), logged
    assert any("POST /api/v1/workers/lookup" in m for m in logged), logged
    assert not any(nik in m for m in logged)


def test_workers_find_takes_the_nik_from_standard_input(tmp_path):
    """A NIK on the command line stays in the shell's history and shows in `ps`."""
    env = _env(tmp_path / "instance")
    roster = write_roster(tmp_path / "r.csv", [worker_row(i) for i in range(2)])
    subprocess.run([JAMSOS, "roster", "submit", str(roster), "--agency", "15.05"], env=env,
                   check=True, capture_output=True, timeout=120)
    nik = worker_row(1)[0]
    for args in ([], ["-"]):
        found = subprocess.run([JAMSOS, "workers", "find", *args, "--json"], env=env,
                               input=f"{nik}\n", capture_output=True, text=True, timeout=60)
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["nik"] == f"{nik[:6]}******{nik[-4:]}"
    typo = subprocess.run([JAMSOS, "workers", "find"], env=env, input="abcd\n",
                          capture_output=True, text=True, timeout=60)
    assert typo.returncode == 2
