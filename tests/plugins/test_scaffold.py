"""`jamsos plugin new`: the generated package passes its own contract tests, and installs.

The contract tests run with the generated folder on PYTHONPATH (fast). Installing with pip
and finding the entry point is tested by tests/plugins/test_tutorial.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

JAMSOS = str(Path(sys.executable).with_name("jamsos"))


def run(args, *, cwd=None, pythonpath=None, timeout=180, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env["JAMSOS_CONFIG_FILE"] = ""
    env.update(env_extra or {})
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
    assert "6 passed" in tests.stdout


def test_the_kit_fails_fast_on_a_soap_source_that_never_reports_its_last_page(tmp_path):
    made = run([JAMSOS, "plugin", "new", "kemensos", "--kind", "soap", "--dir", str(tmp_path)])
    assert made.returncode == 0, made.stderr
    target = tmp_path / "kemensos"
    module = target / "jamsos_kemensos" / "__init__.py"
    code = module.read_text()
    assert "return page < response.pageCount" in code
    module.write_text(code.replace("return page < response.pageCount", "return True"))
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        pythonpath=target,
        timeout=120,  # it ran for more than 10 minutes before (100,000 pages)
    )
    assert tests.returncode != 0
    assert "never reports the last page" in tests.stdout, tests.stdout[-3000:]


def test_refuses_bad_names_and_unknown_agencies(tmp_path):
    bad = run([JAMSOS, "plugin", "new", "Bad Name", "--kind", "csv", "--dir", str(tmp_path)])
    assert bad.returncode != 0 and "lower-case" in bad.stderr
    unknown = run([JAMSOS, "plugin", "new", "dinas_x", "--kind", "csv", "--dir", str(tmp_path)])
    assert unknown.returncode != 0 and "--agency" in unknown.stderr
