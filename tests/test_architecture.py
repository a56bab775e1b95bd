"""The house's layers (docs/architecture.md), enforced: every import-linter contract of
pyproject.toml is kept, each checked on its own so a failure names the rule it breaks.

The contracts run through the `lint-imports` command, import-linter's documented interface
(also run by `make test`); the graph takes well under a second to build.
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import gateway

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*contract_ids: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    selected = [arg for cid in contract_ids for arg in ("--contract", cid)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *selected],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("contract_id", sorted(CONTRACTS))
def test_the_import_contract_is_kept(contract_id: str) -> None:
    done = lint_imports(contract_id)
    if done.returncode != 0:
        pytest.fail(
            f"import contract {contract_id!r} is broken: {CONTRACTS[contract_id]['name']}\n\n"
            f"{done.stdout[-6000:]}{done.stderr[-2000:]}",
            pytrace=False,
        )


def test_the_plugin_contract_forbids_every_part_of_gateway_but_its_face() -> None:
    """A module added at the top of gateway/ is forbidden to plugins until someone decides it
    is part of the public face (then it belongs in `gateway/__init__.py` instead)."""
    parts = {f"gateway.{m.name}" for m in pkgutil.iter_modules(gateway.__path__)}
    public = {"gateway.testing"}
    assert set(CONTRACTS["plugins-public-face"]["forbidden_modules"]) == parts - public


def test_every_shipped_plugin_is_held_to_the_contracts() -> None:
    shipped = {p.parent.name for p in REPO.glob("plugins/*/jamsos_*/__init__.py")}
    assert shipped, "no plugin package found under plugins/"
    assert shipped <= set(CONFIG["root_packages"])
    assert shipped == set(CONTRACTS["plugins-public-face"]["source_modules"])


def test_every_name_of_the_public_face_resolves() -> None:
    for name in gateway.__all__:
        assert getattr(gateway, name) is not None, name


def test_a_domain_module_importing_the_store_breaks_the_contracts(tmp_path: Path) -> None:
    """The contracts really bite: a copy of the code with one forbidden import added to the
    domain fails, naming the rule and the import."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "gateway", tmp_path / "gateway", ignore=ignore)
    shutil.copytree(REPO / "dags", tmp_path / "dags", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    records = tmp_path / "gateway" / "domain" / "records.py"
    records.write_text(records.read_text() + "\nfrom gateway.store import tables  # noqa\n")

    done = lint_imports("domain", "layers", cwd=tmp_path)  # the copy shadows the checkout

    assert done.returncode == 1, done.stdout + done.stderr
    assert CONTRACTS["domain"]["name"][:60] in " ".join(done.stdout.split())
    assert "gateway.domain.records -> gateway.store.tables" in done.stdout
    assert "gateway.domain is not allowed to import gateway.store" in done.stdout
