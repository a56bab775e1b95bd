"""The `jamsos` command as a user runs it: a real process, a real SQLite file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.roster import worker_row, write_roster

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env["JAMSOS_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["JAMSOS_CONFIG_FILE"] = ""
    return env


def jamsos(env, *args, cwd=None):
    return subprocess.run(
        [JAMSOS, *args], env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.fixture
def roster(tmp_path):
    rows = [worker_row(i) for i in range(6)]
    rows[1][0] = "1.50501E+15"
    rows[4][5] = "Rp 0"
    return write_roster(tmp_path / "roster.csv", rows)


def test_check_prints_a_readable_report_and_fails_on_errors(env, roster):
    result = jamsos(env, "roster", "check", str(roster))
    assert result.returncode == 1
    out = result.stdout
    assert "diterima / accepted: 4" in out and "ditolak / rejected: 2" in out
    assert "Baris      3" in out and "nik_scientific" in out
    assert "Teks" in out  # the hint to format the column as text, in Bahasa Indonesia
    assert not (Path(env["JAMSOS_INSTANCE_PATH"]) / "jamsos.db").exists()  # nothing written


def test_check_json_is_the_machine_report(env, roster):
    result = jamsos(env, "roster", "check", str(roster), "--json")
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("rows", "accepted", "rejected", "warnings")} == {
        "rows": 6,
        "accepted": 4,
        "rejected": 2,
        "warnings": 0,
    }
    assert report["columns"]["Gaji"] == "wage"
    assert report["unknown_columns"] == []
    assert [(p["row"], p["field"], p["code"]) for p in report["problems"]] == [
        (3, "nik", "nik_scientific"),
        (6, "wage", "money_not_positive"),
    ]
    for p in report["problems"]:
        assert set(p) == {"row", "field", "code", "severity", "message_id", "message_en"}


def test_submit_then_runs_then_find_the_worker_masked(env, roster):
    submitted = jamsos(env, "roster", "submit", str(roster), "--agency", "15.05", "--json")
    assert submitted.returncode == 0, submitted.stderr
    report = json.loads(submitted.stdout)
    assert report["status"] == "succeeded" and report["changes"]["new"] == 4
    assert "keys.json" in submitted.stderr  # the first start says it created a key file

    runs = jamsos(env, "runs", "--json")
    assert json.loads(runs.stdout)[0]["accepted"] == 4

    nik = worker_row(0)[0]
    found = jamsos(env, "workers", "find", nik)
    assert found.returncode == 0
    assert f"{nik[:6]}******{nik[-4:]}" in found.stdout and nik not in found.stdout
    assert re.search(r"run \d+ +baru / new", found.stdout)  # the enrollment's history

    again = jamsos(env, "roster", "submit", str(roster), "--agency", "15.05")
    assert again.returncode == 0 and "sudah pernah dikirim" in again.stdout
    # The text report names the signed receipt (it was only in --json).
    receipt = json.loads(submitted.stdout)["receipt"]
    assert "Tanda terima bertanda tangan / Signed receipt" in again.stdout
    assert f"sha256 {receipt['input_sha256']}" in again.stdout


def test_submit_exits_non_zero_when_nothing_could_be_applied(env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Nama;Alamat\nBudi;Jambi\n")
    result = jamsos(env, "roster", "submit", str(bad), "--agency", "15.05")
    assert result.returncode == 1
    assert "nik" in result.stdout.lower()
    listed = jamsos(env, "runs").stdout.splitlines()
    assert listed[0].rstrip().endswith("ERROR")  # why it was refused, without --json
    assert "rejected" in listed[1] and listed[1].rstrip().endswith("missing_columns")


def test_unknown_agency_is_a_usage_error(env, roster):
    result = jamsos(env, "roster", "submit", str(roster), "--agency", "98.01")
    assert result.returncode == 2
    assert "unknown agency code" in result.stderr


def test_keys_generate_and_apikeys_create(env, tmp_path):
    keys = jamsos(env, "keys", "generate").stdout.splitlines()
    assert [line.split("=", 1)[0] for line in keys] == ["JAMSOS_DATA_KEYS", "JAMSOS_INDEX_KEY"]
    env.update(line.split("=", 1) for line in keys)
    token = jamsos(env, "apikeys", "create", "--agency", "15.05")
    assert token.returncode == 0 and token.stdout.startswith("jgw_")
    # With keys in the environment no key file is created.
    assert not (Path(env["JAMSOS_INSTANCE_PATH"]) / "keys.json").exists()


def test_keys_generate_makes_the_receipt_key_production_needs(env, roster, tmp_path):
    import stat

    pem = tmp_path / "secrets" / "receipt_key.pem"
    pem.parent.mkdir()
    made = jamsos(env, "keys", "generate", "--receipt-key", str(pem))
    assert made.returncode == 0, made.stderr
    lines = dict(line.split("=", 1) for line in made.stdout.splitlines())
    assert lines["JAMSOS_RECEIPT_KEY"] == f"$file:{pem.resolve()}"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    env.update(lines)
    submitted = jamsos(env, "roster", "submit", str(roster), "--agency", "15.05", "--json")
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(json.loads(submitted.stdout)["receipt"]))
    assert jamsos(env, "receipt", "verify", str(receipt)).returncode == 0  # signed by that key
    assert not (Path(env["JAMSOS_INSTANCE_PATH"]) / "receipt-key.pem").exists()
    again = jamsos(env, "keys", "generate", "--receipt-key", str(pem))
    assert again.returncode == 2 and "never overwritten" in again.stderr


def test_a_different_index_key_is_refused_at_start(env, roster):
    jamsos(env, "roster", "submit", str(roster), "--agency", "15.05")
    other = dict(
        env,
        **dict(line.split("=", 1) for line in jamsos(env, "keys", "generate").stdout.splitlines()),
    )
    result = jamsos(other, "runs")
    assert result.returncode != 0
    assert "not the key this database was written with" in result.stderr


def test_demo_load_says_how_to_log_in_and_keeps_saying_it(env, tmp_path):
    import re
    import stat

    from gateway.app import create_app
    from gateway.store.users import authenticate

    first = jamsos(env, "demo", "load")
    assert first.returncode == 0, first.stderr
    password = re.search(r"password: (\S+)", first.stdout).group(1)
    key = re.search(r"API key: (jgw_\S+)", first.stdout).group(1)
    credentials = Path(env["JAMSOS_INSTANCE_PATH"]) / "demo" / "credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    # The BPJS side (issue 17, item 8): the demo agencies delivered to the loopback BPJS
    # service, KPJs given and a few rejected with a reason; a second load sends nothing again.
    told = re.search(r"destination bpjs-h2h\s+(\d+) terdaftar.*?(\d+) ditolak", first.stdout)
    assert told and int(told.group(1)) > 1000 and int(told.group(2)) >= 2, first.stdout
    rejected = jamsos(env, "deliver", "mutations", "--state", "rejected")
    assert "nik_unknown" in rejected.stdout and "Dukcapil" in rejected.stdout
    # What BPJS sends back (issue 18): a membership list per NPP, bills, payments, synced.
    for feed in ("kepesertaan", "tagihan", "pembayaran"):
        assert re.search(rf"source bpjs-{feed}\S*\s+\d+ diterima.*succeeded", first.stdout)
    status = json.loads(jamsos(env, "reconcile", "status", "--json").stdout)["agencies"]
    assert any(f["covered"] > 0 for f in status.values()), status  # one NPP paid in full
    assert any(f["registered"] > f["covered"] for f in status.values()), status  # one unpaid
    again = jamsos(env, "demo", "load")
    assert f"password: {password}" in again.stdout  # the same login, no second user
    assert re.search(r"destination bpjs-h2h\s+0 terdaftar.*?\b0 ditolak", again.stdout)
    fed = [line for line in again.stdout.splitlines() if "source bpjs-" in line]
    assert len(fed) >= 3 and all("tidak ada yang baru" in line for line in fed), again.stdout
    app = create_app({"INSTANCE_PATH": env["JAMSOS_INSTANCE_PATH"], "CONFIG_FILE": None})
    registry = app.extensions["jamsos"].registry
    assert authenticate(registry.engine, "demo", password).outcome == "ok"
    assert registry.authenticate(key).agency == "15.05"


def test_version_is_the_gateways_and_a_limit_below_one_is_refused(env):
    version = jamsos(env, "--version")
    assert version.returncode == 0 and version.stdout.startswith("jamsos, version ")
    assert "Flask" not in version.stdout
    for limit in ("0", "-5"):  # 0 said "No runs yet", -5 listed every run
        refused = jamsos(env, "runs", "--limit", limit)
        assert refused.returncode == 2 and "--limit" in refused.stderr


def test_the_day_of_a_run_is_the_day_in_wib_whatever_the_hosts_time_zone(env, tmp_path):
    """At 05:29 WIB on 30 November (22:29 UTC on the 29th) a worker ended on a UTC host got
    end date 29 November, on a Jakarta host 30 November: the same moment, two days."""
    from datetime import UTC, datetime, timedelta

    wib_date = (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()
    both = write_roster(tmp_path / "both.csv", [worker_row(0), worker_row(1)])
    one = write_roster(tmp_path / "one.csv", [worker_row(0)])
    ended = {}
    for zone in ("Pacific/Kiritimati", "America/Los_Angeles"):  # UTC+14 and UTC-8
        zoned = dict(env, TZ=zone)
        assert jamsos(zoned, "roster", "submit", str(both), "--agency", "15.04").returncode == 0
        assert jamsos(zoned, "roster", "submit", str(one), "--agency", "15.04",
                      "--confirm-endings", "1").returncode == 0  # 1 of 2 ended: confirmed
        found = json.loads(jamsos(zoned, "workers", "find", worker_row(1)[0], "--json").stdout)
        ended[zone] = found["enrollments"][0]["end_date"]
    assert set(ended.values()) == {wib_date}, ended


@pytest.mark.parametrize(
    "args",
    [["budget", "check", "--year", "2025", "--export", "/nonexistent-folder/out.csv"],
     ["budget", "check", "--year", "2025", "--export", "out.pdf"],
     ["serve", "--port", "99999"], ["serve", "--workers", "0"],
     ["audit", "log", "--limit", "-1"], ["keys", "rotate", "--batch-size", "0"]],
)  # fmt: skip
def test_a_bad_option_value_is_a_usage_error_not_a_traceback(env, args):
    result = jamsos(env, *args)
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert "Traceback" not in result.stderr and "Invalid value" in result.stderr


def test_a_targets_file_that_cannot_be_read_is_a_usage_error(env, tmp_path):
    bad = tmp_path / "targets.toml"
    bad.write_text('[[targets]]\ncode = "99"\nyear = 2025\ntarget = 10\n')
    result = jamsos(env, "coverage", "--targets", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "99" in result.stderr


def test_workers_find_tells_a_nik_that_is_not_one_from_an_unknown_worker(env):
    typo = jamsos(env, "workers", "find", "abcd")
    assert typo.returncode == 2 and "16" in typo.stderr  # it said "not in the registry"
    assert jamsos(env, "db", "upgrade").returncode == 0  # a registry, without that worker
    unknown = jamsos(env, "workers", "find", "1505010101800099")
    assert unknown.returncode == 1 and "not in the registry" in unknown.stderr
