"""The command line's layout: the same commands as before the split, each in the module of
gateway/cli/ named after its group (docs/architecture.md), and nothing else in __init__."""

from __future__ import annotations

import importlib
from pathlib import Path

from click.testing import CliRunner

import gateway.cli
from gateway.cli import main

# Every top-level command and the module it lives in (plugins list + plugin new share one;
# sources + sync share one).
MODULES = {
    "apikeys": "apikeys", "audit": "audit", "budget": "budget",
    "contributions": "contributions", "coverage": "coverage", "db": "db", "demo": "demo",
    "keys": "keys", "plugin": "plugins", "plugins": "plugins", "receipt": "receipt",
    "roster": "roster", "runs": "runs", "serve": "serve", "sources": "sync", "sync": "sync",
    "users": "users", "workers": "workers",
}  # fmt: skip
MODULES["verify"] = "verify"  # identity verification (issue 19)
# Delivery to BPJS (issue 17) and reconciliation (issue 18).
MODULES |= {"employers": "employers", "deliver": "deliver", "reconcile": "reconcile"}
SHARED = {"__init__", "options", "output"}  # not a command group
# A group's subcommands kept in a module of their own beside it: the SIPP files' staff side.
PARTS = {"deliver": {"deliver_files"}}


def test_jamsos_lists_the_same_commands_as_before():
    assert set(main.commands) == set(MODULES)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    lines = result.output.split("Commands:")[1].splitlines()
    listed = [line.split()[0] for line in lines if line[:2] == "  " and line[2:3] != " "]
    assert listed == sorted(MODULES)


def test_each_command_group_lives_in_the_module_named_after_it():
    for name, command in main.commands.items():
        assert command.callback.__module__ == f"gateway.cli.{MODULES[name]}", name
        # ...and so does every subcommand of the group (keys rotate was in another file).
        for sub in getattr(command, "commands", {}).values():
            homes = {MODULES[name], *PARTS.get(name, ())}
            assert sub.callback.__module__ in {f"gateway.cli.{m}" for m in homes}, (name, sub.name)


def test_every_cli_module_is_a_command_group_or_shared():
    folder = Path(gateway.cli.__file__).parent
    modules = {p.stem for p in folder.glob("*.py")}
    parts = {m for found in PARTS.values() for m in found}
    assert modules == set(MODULES.values()) | SHARED | parts
    for stem in modules - SHARED:
        importlib.import_module(f"gateway.cli.{stem}")
