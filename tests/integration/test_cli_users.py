"""`jamsos users` binds dashboard users to one agency (issue 16, finding 10): a real process,
a real SQLite file, the audit log read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JAMSOS = str(Path(sys.executable).with_name("jamsos"))
PASSWORD = "kata-sandi-uji-123\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env["JAMSOS_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["JAMSOS_CONFIG_FILE"] = ""
    return env


def jamsos(env: dict[str, str], *args: str, stdin: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JAMSOS, *args], env=env, capture_output=True, text=True,
                          input=stdin, timeout=120)  # fmt: skip


def _listed(env: dict[str, str]) -> dict[str, list[str]]:
    result = jamsos(env, "users", "list")
    assert result.returncode == 0, result.stderr
    return {line.split()[0]: line.split() for line in result.stdout.splitlines()}


def test_users_are_created_bound_listed_and_rebound(env: dict[str, str]) -> None:
    made = jamsos(env, "users", "create", "rini", "--agency", "1505", "--password-stdin",
                  stdin=PASSWORD)
    assert made.returncode == 0, made.stderr
    assert "15.05" in made.stdout  # written as the gateway writes it
    assert jamsos(env, "users", "create", "siti", "--password-stdin",
                  stdin=PASSWORD).returncode == 0
    listed = _listed(env)
    assert listed["rini"][1:3] == ["viewer", "15.05"]
    assert listed["siti"][2] == "nasional/national"  # the default: nothing changes for them

    moved = jamsos(env, "users", "scope", "rini", "--agency", "KEMENKES")
    assert moved.returncode == 0, moved.stderr
    assert _listed(env)["rini"][2] == "kemenkes"
    assert jamsos(env, "users", "scope", "rini", "--national").returncode == 0
    assert _listed(env)["rini"][2] == "nasional/national"

    audit = jamsos(env, "audit", "log")  # each change is in the audit log, from what to what
    assert audit.returncode == 0, audit.stderr
    changes = [line for line in audit.stdout.splitlines() if "user_scope_changed" in line]
    # newest first
    assert len(changes) == 2 and '"to": "national"' in changes[0]
    assert '"from": "15.05", "to": "kemenkes"' in changes[1]


def test_users_scope_refuses_what_it_cannot_do(env: dict[str, str]) -> None:
    unknown = jamsos(env, "users", "create", "ani", "--agency", "99.99", "--password-stdin",
                     stdin=PASSWORD)
    assert unknown.returncode != 0 and "tidak dikenal" in unknown.stderr
    operator = jamsos(env, "users", "create", "ops", "--role", "operator", "--agency", "15",
                      "--password-stdin", stdin=PASSWORD)
    assert operator.returncode != 0 and "nationally" in operator.stderr
    assert jamsos(env, "users", "create", "ops", "--role", "operator", "--password-stdin",
                  stdin=PASSWORD).returncode == 0
    assert jamsos(env, "users", "scope", "ops", "--agency", "15").returncode != 0
    assert jamsos(env, "users", "scope", "nobody", "--national").returncode != 0
    both = jamsos(env, "users", "scope", "ops", "--agency", "15", "--national")
    assert both.returncode != 0 and "exactly one" in both.stderr
    assert jamsos(env, "users", "scope", "ops").returncode != 0
