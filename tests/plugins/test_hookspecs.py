"""Every hook is documented in docs/writing-a-plugin.md, with the signature the hookspec really
has, and exercised by a test named `test_hook_<name>` (the datasette convention), so a new hook
cannot ship undocumented and a changed one cannot keep its old documentation."""

from __future__ import annotations

import inspect
import re
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


def documented_parameters(hook: str) -> list[str] | None:
    """The parameter names of the first `hook(...)` call form in the hook's section of the doc
    (from its `### `hook`` heading to the next heading), or None if the section has none."""
    section = re.search(rf"^### `{hook}`\n(.*?)(?=^#)", DOC + "\n#", re.S | re.M)
    call = section and re.search(rf"`{hook}\(([^)`]*)\)`", section.group(1))
    if not call:
        return None
    return [name.strip() for name in call.group(1).split(",") if name.strip()]


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_documents_its_signature(hook):
    # pluggy passes hook arguments by name: a plugin written from a stale name gets nothing.
    real = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    documented = documented_parameters(hook)
    assert documented is not None, (
        f"docs/writing-a-plugin.md: the section of `{hook}` shows no `{hook}(...)` signature"
    )
    assert documented == real, (
        f"docs/writing-a-plugin.md documents `{hook}({', '.join(documented)})`, but "
        f"gateway/sources/hookspecs.py declares `{hook}({', '.join(real)})`"
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert hasattr(test_hooks, f"test_hook_{hook}")


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_has_a_docstring_and_no_defaults(hook):
    fn = getattr(hookspecs, hook)
    assert fn.__doc__ and len(fn.__doc__) > 40
    params = inspect.signature(fn).parameters.values()
    assert all(p.default is inspect.Parameter.empty for p in params)
