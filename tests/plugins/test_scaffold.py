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


REPO = Path(__file__).resolve().parents[2]
RUFF = str(Path(sys.executable).with_name("ruff"))


def contract_tests(target: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    """The generated plugin's own tests, as its author runs them."""
    return run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        pythonpath=target,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("kind", "flag", "outcome"),
    [
        ("soap", "--snapshot", "8 passed"),
        ("csv", "--snapshot", "7 passed, 1 skipped"),  # no pages to ask for
        ("soap", "--incremental", "8 passed"),
    ],
)
def test_generated_plugin_passes_its_contract_tests_and_the_projects_ruff(
    tmp_path, kind, flag, outcome
):
    made = run([JAMSOS, "plugin", "new", "kemensos", "--kind", kind, flag,
                "--dir", str(tmp_path)])  # fmt: skip
    assert made.returncode == 0, made.stderr
    target = tmp_path / "kemensos"
    # The project's own lint, as `make lint` runs it from the repository (I001 once failed
    # the generated test's imports).
    lint = run([RUFF, "check", "--no-cache", str(target)], cwd=REPO)
    assert lint.returncode == 0, lint.stdout[-3000:]
    tests = contract_tests(target)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert outcome in tests.stdout


def test_the_source_is_a_full_snapshot_unless_generated_incremental(tmp_path):
    """A service with no "changed since" must be fetched whole every sync: the scaffold no
    longer gives every plugin a cursor (7,499 staff gone, 0 ended)."""
    for flag in ("--snapshot", "--incremental"):
        made = run([JAMSOS, "plugin", "new", flag[2:], "--kind", "soap", flag, "--agency",
                    "kemensos", "--dir", str(tmp_path)])  # fmt: skip
        assert made.returncode == 0, made.stderr
    full = (tmp_path / "snapshot" / "jamsos_snapshot" / "__init__.py").read_text()
    assert "incremental = False" in full and "cursor_after" not in full
    assert "StatusFlag" in full and "previous" in full
    changes = (tmp_path / "incremental" / "jamsos_incremental" / "__init__.py").read_text()
    assert "incremental = True" in changes and "def cursor_after" in changes
    made = run([JAMSOS, "plugin", "new", "changes", "--kind", "csv", "--incremental",
                "--agency", "kemensos", "--dir", str(tmp_path)])  # fmt: skip
    assert made.returncode == 0, made.stderr
    changed_only = tmp_path / "changes" / "jamsos_changes" / "__init__.py"
    assert "snapshot = False" in changed_only.read_text()


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
