"""docs/writing-a-plugin.md, followed as a new engineer would: its code blocks are written
where it says, the generated plugins pass their contract tests, and the CSV plugin, installed
with pip, syncs through the `jamsos` command with the tutorial's sources.toml."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from tests.plugins.test_scaffold import JAMSOS, run

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md"
_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.S)


def doc_files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def follow(tmp_path: Path, name: str, kind: str) -> Path:
    made = run([JAMSOS, "plugin", "new", name, "--kind", kind, "--dir", str(tmp_path)])
    assert made.returncode == 0, made.stderr
    for rel, body in doc_files().items():
        if rel.startswith(f"{name}/"):
            (tmp_path / rel).write_text(body, encoding="utf-8")
    target = tmp_path / name
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=target,
        pythonpath=target,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    return target


def test_the_tutorial_names_files_that_exist_in_a_generated_plugin():
    assert set(doc_files()) == {
        "kemensos/jamsos_kemensos/__init__.py",
        "kemensos/jamsos_kemensos/samples/roster.csv",
        "sources.toml",
        "kemnaker/jamsos_kemnaker/__init__.py",
    }


def test_the_tutorial_installs_before_testing_and_fills_the_drop_folder():
    """The steps this test takes on its own must be in the text: a new engineer ran the
    tests before installing (ModuleNotFoundError) and synced an empty drop folder."""
    text = DOC.read_text(encoding="utf-8")
    install = text.index(".venv/bin/pip install -e plugins/kemensos")
    assert install < text.index(".venv/bin/pytest plugins/kemensos/tests")
    copy = "cp plugins/kemensos/jamsos_kemensos/samples/roster.csv drop/kemensos/"
    assert copy in text and text.index(copy) < text.index(".venv/bin/jamsos sync kemensos-pkh")


def test_part_1_csv_plugin_from_nothing_to_a_synced_agency(tmp_path):
    target = follow(tmp_path, "kemensos", "csv")
    site = tmp_path / "site"
    installed = run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(target)],
        timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    (tmp_path / "sources.toml").write_text(doc_files()["sources.toml"])
    drop = tmp_path / "drop" / "kemensos"
    drop.mkdir(parents=True)
    shutil.copy(target / "jamsos_kemensos" / "samples" / "roster.csv", drop / "pkh_2025_06.csv")

    def jamsos(*args):
        return run([JAMSOS, *args], cwd=tmp_path, pythonpath=site, env_extra={
            "JAMSOS_SOURCES_FILE": str(tmp_path / "sources.toml"),
            "JAMSOS_INSTANCE_PATH": str(tmp_path / "instance"),
        })  # fmt: skip

    listed = json.loads(jamsos("plugins", "list", "--json").stdout)
    assert any(p["plugin"] == "kemensos" and p["sources"] == ["kemensos-pkh"] for p in listed)
    synced = jamsos("sync", "kemensos-pkh", "--json")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    report = json.loads(synced.stdout)["report"]
    assert (report["accepted"], report["rejected"]) == (2, 1)
    codes = {p["code"] for p in report["problems"]}
    assert {"kemensos_honor_low", "date_invalid", "gender_mismatch"} <= codes
    again = jamsos("sync", "kemensos-pkh", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "nothing_new"


def test_part_2_soap_plugin_passes_its_contract_tests(tmp_path):
    follow(tmp_path, "kemnaker", "soap")
