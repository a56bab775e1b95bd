"""Issue 16, finding 2: a partial roster ended 287 of 298 workers in one click, silently.

Now a check says how many active workers a file would end (with a masked sample), and a
submission ending more than ENDING_CONFIRM_SHARE (20 %) of them is refused, nothing written,
unless confirmed with that very number: API (`confirm_endings`), CLI (`--confirm-endings`),
and an unattended sync (refused, recorded failed with the cause). Real registry, SQLite and
PostgreSQL; the CLI as a real process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from gateway.domain.agencies import resolve_agency
from gateway.roster.read.reader import open_roster
from gateway.roster.run import RunFailed, apply_rows
from tests.helpers.roster import worker_row, write_roster

FULL = 20
MASKED = re.compile(r"^\d{6}\*{6}\d{4}$")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def key(gw) -> str:
    return gw.registry.create_api_key("15.05", "BKPSDM Muaro Jambi")


def post(client, key: str, path: Path, endpoint: str = "rosters?wait=1", **form: str):
    with open(path, "rb") as fh:
        return client.post(f"/api/v1/agencies/15.05/{endpoint}",
                           headers={"Authorization": f"Bearer {key}"},
                           data={"file": (fh, path.name), **form},
                           content_type="multipart/form-data")  # fmt: skip


@pytest.fixture
def enrolled(client, key, tmp_path) -> list[list[str]]:
    rows = [worker_row(i) for i in range(FULL)]
    first = post(client, key, write_roster(tmp_path / "full.csv", rows))
    assert first.status_code == 201, first.json
    return rows


def test_check_says_how_many_a_partial_file_would_end_with_a_masked_sample(
    client, key, enrolled, tmp_path
):
    partial = write_roster(tmp_path / "partial.csv", enrolled[:3])
    answer = post(client, key, partial, "rosters/check")
    assert answer.status_code == 200
    endings = answer.json["endings"]
    assert (endings["would_end"], endings["active"]) == (FULL - 3, FULL)
    assert endings["needs_confirmation"] is True and endings["threshold"] == 0.2
    assert len(endings["sample"]) == 5
    assert all(MASKED.match(one["nik"]) for one in endings["sample"])
    named = {row[0] for row in enrolled[3:]}
    assert not any(nik in answer.get_data(as_text=True) for nik in named)  # masked only
    # A rejected row still names its worker: it is not counted as ended.
    broken = [list(r) for r in enrolled]
    broken[5][5] = "Rp 0"
    check = post(client, key, write_roster(tmp_path / "b.csv", broken), "rosters/check")
    assert check.json["endings"]["would_end"] == 0


def test_a_partial_roster_is_refused_until_confirmed_with_the_right_number(
    client, key, gw, enrolled, tmp_path
):
    partial = write_roster(tmp_path / "partial.csv", enrolled[:3])
    refused = post(client, key, partial)
    assert refused.status_code == 409, refused.json
    assert refused.json["status"] == "failed"
    assert refused.json["endings"]["would_end"] == FULL - 3
    assert "17" in refused.json["error"] and " / " in refused.json["error"]
    assert gw.registry.count_active("15.05") == FULL  # nothing written
    wrong = post(client, key, partial, confirm_endings=str(FULL - 4))
    assert wrong.status_code == 409
    assert gw.registry.count_active("15.05") == FULL
    assert post(client, key, partial, confirm_endings="lots").status_code == 400
    # The run the client follows says the same.
    run = client.get(f"/api/v1/runs/{wrong.json['run_id']}",
                     headers={"Authorization": f"Bearer {key}"}).json  # fmt: skip
    assert run["status"] == "failed" and run["endings"]["would_end"] == FULL - 3
    applied = post(client, key, partial, confirm_endings=str(FULL - 3))
    assert applied.status_code == 201, applied.json
    assert applied.json["changes"]["ended"] == FULL - 3
    assert gw.registry.count_active("15.05") == 3


def test_endings_within_the_share_need_no_confirmation(client, key, gw, enrolled, tmp_path):
    most = write_roster(tmp_path / "most.csv", enrolled[: FULL - 4])  # 4 of 20: 20 %
    answer = post(client, key, most)
    assert answer.status_code == 201, answer.json
    assert answer.json["changes"]["ended"] == 4


def test_a_sync_above_the_share_fails_with_the_cause(gw, enrolled, tmp_path, monkeypatch):
    """What a scheduled sync gets (apply_rows without a guard): nobody can confirm, so the
    run fails, nothing written; the operator lets one through with the share raised."""
    partial = write_roster(tmp_path / "feed.csv", enrolled[:2])
    registry = gw.registry

    def sync() -> object:
        run_id = registry.start_run(agency="15.05", source="feed", trigger="schedule")
        return apply_rows(registry, run_id, lambda: open_roster(partial),
                          agency=resolve_agency("15.05"), today=date(2026, 1, 5))  # fmt: skip

    with pytest.raises(RunFailed) as failed:
        sync()
    assert failed.value.report.error.startswith("endings_unconfirmed (18/20)")
    assert registry.count_active("15.05") == FULL
    monkeypatch.setenv("JAMSOS_ENDING_CONFIRM_SHARE", "1")
    assert sync().status == "succeeded"
    assert registry.count_active("15.05") == 2


def test_cli_check_and_submit_with_confirm_endings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env.update(JAMSOS_INSTANCE_PATH=str(tmp_path / "instance"), JAMSOS_CONFIG_FILE="")
    jamsos = str(Path(sys.executable).with_name("jamsos"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([jamsos, *args], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    rows = [worker_row(i) for i in range(10)]
    full = write_roster(tmp_path / "full.csv", rows)
    assert run("roster", "submit", "--agency", "15.05", str(full)).returncode == 0
    partial = write_roster(tmp_path / "partial.csv", rows[:2])
    check = run("roster", "check", "--agency", "15.05", str(partial))
    assert "mengakhiri kepesertaan 8 dari 10" in check.stdout and "ends 8 of 10" in check.stdout
    assert re.search(r"\d{6}\*{6}\d{4}", check.stdout)
    refused = run("roster", "submit", "--agency", "15.05", str(partial))
    assert refused.returncode == 1 and "--confirm-endings 8" in refused.stdout
    time.sleep(0.01)
    done = run("roster", "submit", "--agency", "15.05", "--confirm-endings", "8", str(partial))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "diakhiri / ended: 8" in done.stdout


def _health(client) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.findall(r'jamsos_source_health\{agency="15.05",source="upload",state="(\w+)"\} '
                       r"([\d.]+)", text)  # fmt: skip
    return {state: float(value) for state, value in found}


def test_a_run_that_ended_or_rejected_too_much_needs_attention(client, key, gw, enrolled,
                                                               tmp_path):  # fmt: skip
    """The feed showed healthy after a partial roster ended 287 of 298 workers."""
    assert _health(client)["healthy"] == 1.0
    partial = write_roster(tmp_path / "partial.csv", enrolled[:3])
    assert post(client, key, partial, confirm_endings=str(FULL - 3)).status_code == 201
    assert _health(client)["attention"] == 1.0 and _health(client)["healthy"] == 0.0
    (feed,) = [f for f in gw.feeds() if f.agency == "15.05"]
    assert feed.health == "attention" and feed.attention == "ended"
    # Everyone back, but a third of the rows rejected: attention again, for the rejects.
    rows = [list(r) for r in enrolled]
    for row in rows[:7]:
        row[5] = "Rp 0"
    assert post(client, key, write_roster(tmp_path / "bad.csv", rows)).status_code == 201
    (feed,) = [f for f in gw.feeds() if f.agency == "15.05"]
    assert feed.health == "attention" and feed.attention == "rejected"
    assert post(client, key, write_roster(tmp_path / "ok.csv", enrolled)).status_code == 201
    assert _health(client)["healthy"] == 1.0
