"""A command that only reads the registry, run where there is none, says so (issue 21): it
used to create an empty registry and new keys in that folder and answer "no runs yet"."""

from __future__ import annotations

import os

import pytest

from tests.integration.test_cli import jamsos


@pytest.fixture
def elsewhere(tmp_path):
    """A folder with no gateway in it, and the environment of an operator who is lost."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAMSOS_")}
    env["JAMSOS_CONFIG_FILE"] = ""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return env, folder


@pytest.mark.parametrize("command", [
    ["runs"], ["runs", "--json"], ["workers", "find", "1505014101800001"], ["coverage"],
    ["employers", "list"], ["deliver", "status"], ["deliver", "mutations"],
    ["reconcile", "status"], ["reconcile", "differences"],
])  # fmt: skip
def test_a_read_only_command_with_no_registry_says_where_it_looked(elsewhere, command):
    env, folder = elsewhere
    done = jamsos(env, *command, cwd=folder)
    assert done.returncode != 0
    where = folder / "instance" / "jamsos.db"
    assert f"Tidak ada registri di {where}" in done.stderr
    assert "JAMSOS_INSTANCE_PATH" in done.stderr and "jamsos db upgrade" in done.stderr
    assert list(folder.iterdir()) == []  # no registry, no key files, no instance folder


def test_the_same_command_reads_the_registry_once_there_is_one(elsewhere):
    env, folder = elsewhere
    assert jamsos(env, "db", "upgrade", cwd=folder).returncode == 0
    done = jamsos(env, "runs", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "No runs yet" in done.stdout


def test_sources_with_no_registry_lists_the_plugins_sources_and_says_there_is_none(elsewhere):
    env, folder = elsewhere
    done = jamsos(env, "sources", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "kemenkes-ppnpn" in done.stdout
    assert "Catatan / note: Tidak ada registri di" in done.stderr
    assert list(folder.iterdir()) == []
