"""The delivery tests' counterpart: an in-memory double of BPJS registered as a plugin."""

from __future__ import annotations

import pytest

from gateway import Destination, hookimpl
from gateway.sources.loader import make_plugin_manager
from tests.helpers.delivery import Counterpart


@pytest.fixture
def counterpart(gw) -> Counterpart:
    gw.ensure_ready()  # migrated, as any command or request would find it
    dest = Counterpart({})
    dest.seen, dest.kpjs, dest.sends, dest.reject, dest.failures = {}, {}, [], set(), []

    class Plugin:
        @hookimpl
        def register_destinations(self) -> list[type[Destination]]:
            return [Counterpart]

    gw.__dict__["plugins"] = make_plugin_manager(load_entry_points=False,
                                                 plugins={"double": Plugin()})  # fmt: skip
    return dest
