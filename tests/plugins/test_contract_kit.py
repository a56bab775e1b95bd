"""The contract test kit catches the mistakes that stop the gateway loading a plugin: it used
to pass plugins that `jamsos plugins list` then reported FAILED, or that registered nothing."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest

from gateway import CsvSource, hookimpl
from gateway.testing import SourceContract


class KitRoster(CsvSource):
    __test__ = False
    id = "kit-roster"
    agency = "15.05"


def register_sources():
    return [KitRoster]


def undecorated_register_sources():  # hookimpl() marks the function it is given: a second one
    return [KitRoster]


def wrong_args(src, row):  # hookspec: validate_record(source, raw, result)
    return None


MISTAKES = {
    "good": ({"register_sources": hookimpl(register_sources)}, None),
    "hook parameters that are not the hookspec's": (
        {"register_sources": hookimpl(register_sources), "validate_record": hookimpl(wrong_args)},
        "declared in the hookimpl but can not be found in the hookspec",
    ),
    "a misspelt hook": (
        {"register_sources": hookimpl(register_sources), "register_source": hookimpl(lambda: [])},
        "register_source",
    ),
    "register_sources without @hookimpl": (
        {"register_sources": undecorated_register_sources},
        "does not return KitRoster",
    ),
    "the class, not a list": (
        {"register_sources": hookimpl(lambda: KitRoster)},
        "not iterable",
    ),
    "an instance, not the class": (
        {"register_sources": hookimpl(lambda: [object.__new__(KitRoster)])},
        "is not a Source subclass",
    ),
}


@pytest.fixture
def plugin_module(request) -> Iterator[str]:
    """A plugin package made of the given hooks, importable as KitRoster's module."""
    hooks, _ = MISTAKES[request.param]
    module = types.ModuleType("jamsos_kit_under_test")
    for name, fn in hooks.items():
        setattr(module, name, fn)
    sys.modules[module.__name__] = module
    saved = KitRoster.__module__
    KitRoster.__module__ = module.__name__
    yield request.param
    KitRoster.__module__ = saved
    del sys.modules[module.__name__]


@pytest.mark.parametrize("plugin_module", list(MISTAKES), indirect=True)
def test_the_kit_refuses_a_plugin_the_gateway_cannot_load(plugin_module):
    _, says = MISTAKES[plugin_module]

    class Contract(SourceContract):
        source_class = KitRoster

    contract = Contract()
    pm = Contract.plugin_manager.__wrapped__(contract)  # the fixture's own code
    if says is None:
        contract.test_loads_and_registers_its_source(pm)
        return
    with pytest.raises(AssertionError) as caught:
        contract.test_loads_and_registers_its_source(pm)
    assert says in str(caught.value)
