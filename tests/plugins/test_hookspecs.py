"""Every hook is documented in docs/writing-a-plugin.md and exercised by a test named
`test_hook_<name>` (the datasette convention), so a new hook cannot ship undocumented."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from gateway.sources import hookspecs
from tests.plugins import test_hooks

DOC = (Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md").read_text()
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, f"{hookspecs.PROJECT}_spec")
)


def test_there_are_hooks():
    assert {"register_sources", "validate_record", "after_run", "register_commands"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    assert f"### `{hook}`" in DOC


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert hasattr(test_hooks, f"test_hook_{hook}")


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_has_a_docstring_and_no_defaults(hook):
    fn = getattr(hookspecs, hook)
    assert fn.__doc__ and len(fn.__doc__) > 40
    params = inspect.signature(fn).parameters.values()
    assert all(p.default is inspect.Parameter.empty for p in params)
