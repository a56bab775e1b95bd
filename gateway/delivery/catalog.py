"""Finding destinations: each plugin's `register_destinations`, with the settings of
`[destinations.<id>]` in config/destinations.toml (or $JAMSOS_DESTINATIONS_FILE, or the
DESTINATIONS_FILE setting). Secrets stay `$env:`/`$file:` references until used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.delivery.base import Destination, DestinationEntry
from gateway.sources.loader import GatewayPluginManager, plugin_tables, registered_classes

DESTINATIONS_ENV = "JAMSOS_DESTINATIONS_FILE"


class UnknownDestination(LookupError):
    """No plugin registers a destination by that id."""


def load_destination_settings(config: Mapping[str, Any] | None = None) -> dict[str, dict]:
    return plugin_tables(config or {}, "destinations", "DESTINATIONS_FILE", DESTINATIONS_ENV)


def _check(cls: object) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, Destination)):
        return f"{cls!r} is not a Destination subclass"
    if not cls.id or cls.id != cls.id.strip().lower() or " " in cls.id:
        return f"{cls.__name__}.id must be a lower-case id without spaces, got {cls.id!r}"
    if cls.channel not in ("push", "file"):
        return f"{cls.__name__}.channel must be 'push' or 'file', got {cls.channel!r}"
    return None


def collect_destinations(
    pm: GatewayPluginManager, settings: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, DestinationEntry]:
    """Destination classes by id with their settings, one plugin at a time, so that one broken
    plugin costs only its own destinations (its error is shown by `jamsos plugins list`)."""
    settings = settings or {}
    found = registered_classes(pm, "register_destinations", "destination", _check)
    return {did: DestinationEntry(cls, plugin, dict(settings.get(did, {})))
            for did, (cls, plugin) in sorted(found.items())}  # fmt: skip


def destination_ids(pm: GatewayPluginManager) -> list[str]:
    """The ids of every registered destination (one delivery DAG each)."""
    return list(collect_destinations(pm))


def make_destination(
    pm: GatewayPluginManager, destination_id: str, settings: Mapping[str, Mapping] | None = None
) -> Destination:
    entries = collect_destinations(pm, settings if settings is not None else
                                   load_destination_settings())  # fmt: skip
    if destination_id not in entries:
        known = ", ".join(entries) or "none"
        raise UnknownDestination(
            f"Tujuan {destination_id!r} tidak dikenal (terdaftar: {known}) / "
            f"unknown destination {destination_id!r} (registered: {known})"
        )
    return entries[destination_id].create()
