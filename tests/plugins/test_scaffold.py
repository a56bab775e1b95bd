"""`jamsos plugin new`: the generated package passes its own contract tests, and installs.

The contract tests run with the generated folder on PYTHONPATH (fast). One test installs the
csv plugin for real with pip into a private target folder (not the project's venv, whose
other tests must not see a stray plugin) and checks `jamsos plugins list` finds its entry
point there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


def run(args, *, cwd=None, pythonpath=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env["JAMSOS_CONFIG_FILE"] = ""
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("kind", ["soap", "csv"])
def test_generated_plugin_passes_its_contract_tests(tmp_path, kind):
    made = run([JAMSOS, "plugin", "new", "kemensos", "--kind", kind, "--dir", str(tmp_path)])
    assert made.returncode == 0, made.stderr
    target = tmp_path / "kemensos"
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        pythonpath=target,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout


def test_refuses_bad_names_and_unknown_agencies(tmp_path):
    bad = run([JAMSOS, "plugin", "new", "Bad Name", "--kind", "csv", "--dir", str(tmp_path)])
    assert bad.returncode != 0 and "lower-case" in bad.stderr
    unknown = run([JAMSOS, "plugin", "new", "dinas_x", "--kind", "csv", "--dir", str(tmp_path)])
    assert unknown.returncode != 0 and "--agency" in unknown.stderr


def test_generated_plugin_installs_and_is_found_by_its_entry_point(tmp_path):
    made = run([JAMSOS, "plugin", "new", "bkpsdm_jambi", "--kind", "csv", "--agency", "15",
                "--dir", str(tmp_path)])  # fmt: skip
    assert made.returncode == 0, made.stderr
    site = tmp_path / "site"
    installed = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(tmp_path / "bkpsdm_jambi"),
        ],
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    listed = run([JAMSOS, "plugins", "list", "--json"], pythonpath=site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["plugin"]: p for p in json.loads(listed.stdout)}
    assert plugins["bkpsdm_jambi"]["version"] == "0.1.0"
    assert plugins["bkpsdm_jambi"]["sources"] == ["bkpsdm-jambi-roster"]
    assert plugins["bkpsdm_jambi"]["errors"] == []
