"""Loading plugins and finding their sources.

`make_plugin_manager()` builds a fresh pluggy manager (one per app or command, never a
global): the hook specifications, the built-in plugin, then every entry point of the group
`jamsos_gateway`, filtered by the allow-list `JAMSOS_PLUGINS=a,b` when it is set. A plugin
that fails to import, has a hook with a wrong signature or a misspelled hook name is not
registered; its error is kept in `pm.load_errors` and shown by `jamsos plugins list`, and
the gateway and the other plugins carry on.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pluggy

from gateway.config import ConfigError
from gateway.domain.records import Message, Problem, RawRow, RowResult, Severity, make_problem
from gateway.sources import hookspecs
from gateway.sources.base import Source
from gateway.sources.hookspecs import PROJECT, hookimpl

ALLOW_ENV = "JAMSOS_PLUGINS"
SOURCES_ENV = "JAMSOS_SOURCES_FILE"
BUILTIN = "builtin"
# What a source feeds: rosters (enrollments), budgets (APBD allocations), or BPJS's own facts
# (gateway/reconcile/feeds.py: membership lists, bills, payments).
KINDS = ("roster", "budget", "bpjs_members", "bpjs_bills", "bpjs_payments")


class GatewayPluginManager(pluggy.PluginManager):
    """A PluginManager that remembers what failed to load and where plugins came from."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.load_errors: dict[str, list[str]] = {}
        self.versions: dict[str, str | None] = {}

    def report(self, name: str, error: str) -> None:
        # The source catalog is read again for every upload and sync (roster/intake.py): a
        # misconfigured source would otherwise add its error again each time, without end,
        # in a long-running server.
        errors = self.load_errors.setdefault(name, [])
        if error not in errors:
            errors.append(error)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def make_plugin_manager(
    *,
    allow: Iterable[str] | None = None,
    load_entry_points: bool = True,
    plugins: Mapping[str, object] | None = None,
) -> GatewayPluginManager:
    """A fresh plugin manager. `allow`: plugin names to load (default: $JAMSOS_PLUGINS when
    set, else all). `plugins`: extra plugin objects by name (tests, embedding)."""
    pm = GatewayPluginManager()
    pm.add_hookspecs(hookspecs)
    pm.register(Builtins(), name=BUILTIN)
    pm.versions[BUILTIN] = None
    if allow is None and os.environ.get(ALLOW_ENV):
        allow = [n.strip() for n in os.environ[ALLOW_ENV].split(",") if n.strip()]
    allowed = set(allow) if allow is not None else None
    candidates: list[tuple[str, Any, str | None]] = []
    if load_entry_points:
        for ep in entry_points(group=PROJECT):
            if allowed is not None and ep.name not in allowed:
                continue
            if any(name == ep.name for name, _, _ in candidates):
                pm.report(ep.name, f"duplicate plugin name {ep.name!r} ({ep.value}) ignored")
                continue
            version = ep.dist.version if ep.dist is not None else None
            candidates.append((ep.name, ep, version))
    for name, obj in (plugins or {}).items():
        candidates.append((name, obj, None))
    for name, obj, version in candidates:
        pm.versions[name] = version
        try:
            plugin = obj.load() if hasattr(obj, "load") and hasattr(obj, "group") else obj
            pm.register(plugin, name=name)
        except Exception as exc:
            # An import error, a hook with a parameter the spec does not have: the plugin
            # stays out, the gateway and the others carry on.
            pm.report(name, _error(exc))
    _drop_unknown_hooks(pm)
    pm.check_pending()
    return pm


def _drop_unknown_hooks(pm: GatewayPluginManager) -> None:
    """Unregister plugins implementing a hook that no spec declares (a misspelling)."""
    for hook_name, caller in list(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            pm.report(
                impl.plugin_name,
                f"unknown hook {hook_name!r} (misspelled? see docs/writing-a-plugin.md) / "
                f"hook {hook_name!r} tidak dikenal",
            )
            if pm.get_plugin(impl.plugin_name) is not None:
                pm.unregister(name=impl.plugin_name)


@dataclass
class SourceEntry:
    cls: type[Source]
    plugin: str
    settings: dict[str, Any] = field(default_factory=dict)
    source_id: str | None = None  # when a configured instance has its own id

    @property
    def id(self) -> str:
        return self.source_id or self.cls.id

    @property
    def agency(self) -> str:
        return str(self.settings.get("agency") or self.cls.agency or "")

    @property
    def is_template(self) -> bool:
        """A class without an agency (the generic regional roster): not a feed itself, its
        configured instances (`type = "<its id>"`, `agency = ...`) are."""
        return not self.agency

    def create(self) -> Source:
        source = self.cls(self.settings, source_id=self.id)
        source.plugin = self.plugin
        return source


def registered_classes(pm: GatewayPluginManager, hook: str, what: str,
                       check: Callable[[object], str | None]) -> dict[str, tuple[Any, str]]:
    """{id: (class, plugin)} from each plugin's `hook` (register_sources,
    register_destinations), one plugin at a time, so that one broken plugin costs only its own
    classes: a hook that raises, a class `check` refuses (its reason) or an id already taken
    is reported for `jamsos plugins list` and skipped."""
    found: dict[str, tuple[Any, str]] = {}
    for impl in getattr(pm.hook, hook).get_hookimpls():
        try:
            classes = list(impl.function() or [])
        except Exception as exc:
            pm.report(impl.plugin_name, f"{hook}: {_error(exc)}")
            continue
        for cls in classes:
            problem = check(cls)
            if problem is None and cls.id in found:
                problem = f"{what} id {cls.id!r} already registered by {found[cls.id][1]}"
            if problem:
                pm.report(impl.plugin_name, f"{hook}: {problem}")
                continue
            found[cls.id] = (cls, impl.plugin_name)
    return found


def collect_sources(pm: GatewayPluginManager) -> dict[str, SourceEntry]:
    """Source classes by id, from each plugin's `register_sources`."""
    found = registered_classes(pm, "register_sources", "source", _check_source_class)
    return {sid: SourceEntry(cls, plugin) for sid, (cls, plugin) in found.items()}


def _check_source_class(cls: object) -> str | None:
    if not (isinstance(cls, type) and issubclass(cls, Source)):
        return f"{cls!r} is not a Source subclass"
    if not cls.id or cls.id != cls.id.strip().lower() or " " in cls.id:
        return f"{cls.__name__}.id must be a lower-case id without spaces, got {cls.id!r}"
    if cls.kind not in KINDS:
        return f"{cls.__name__}.kind must be one of {', '.join(KINDS)}, got {cls.kind!r}"
    return None


def load_source_settings(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`[sources.<id>]` tables of config/sources.toml (or $JAMSOS_SOURCES_FILE, or the
    SOURCES_FILE setting); secrets stay `$env:`/`$file:` references until used."""
    return plugin_tables(config, "sources", "SOURCES_FILE", SOURCES_ENV)


def plugin_tables(config: Mapping[str, Any], name: str, setting: str, env: str
                  ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The `[<name>.<id>]` tables of the file the `setting` or $`env` names, else of
    config/<name>.toml when there is one (sources, destinations)."""
    path = config.get(setting) or os.environ.get(env)
    if path is None and Path(f"config/{name}.toml").is_file():
        path = f"config/{name}.toml"
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {name} file {path}: {exc}") from exc
    return {str(k): dict(v) for k, v in data.get(name, {}).items() if isinstance(v, dict)}


def source_catalog(
    pm: GatewayPluginManager, settings: Mapping[str, Mapping[str, Any]]
) -> dict[str, SourceEntry]:
    """Every syncable source: each registered class with its settings, plus each configured
    instance (`type = "<class id>"`, its own id and usually its own agency)."""
    classes = collect_sources(pm)
    catalog = {
        sid: SourceEntry(e.cls, e.plugin, dict(settings.get(sid, {}))) for sid, e in classes.items()
    }
    for sid, values in settings.items():
        base = values.get("type")
        if base is None or sid in classes:
            continue
        if base not in classes:
            pm.report("config", f"sources.{sid}: type {base!r} is not a registered source")
            continue
        entry = classes[base]
        rest = {k: v for k, v in values.items() if k != "type"}
        catalog[sid] = SourceEntry(entry.cls, entry.plugin, rest, source_id=sid)
    return dict(sorted(catalog.items()))


# -- the built-in plugin --------------------------------------------------------------------

BUILTIN_MESSAGES: dict[str, Message] = {
    "category_not_allowed": Message(
        Severity.ERROR,
        "Kategori {category} tidak diterima dari sumber {source} (hanya: {allowed}).",
        "Category {category} is not accepted from source {source} (only: {allowed}).",
    ),
}


class Builtins:
    """Rules every source gets: a source that declares `categories` sends only those."""

    @hookimpl
    def validate_record(self, source: Source, raw: RawRow, result: RowResult) -> list[Problem]:
        allowed = type(source).categories
        rec = result.record
        if not allowed or rec is None or rec.category.value in allowed:
            return []
        return [
            make_problem(
                BUILTIN_MESSAGES,
                "category_not_allowed",
                raw.row,
                "category",
                category=rec.category.value,
                source=source.id,
                allowed=", ".join(allowed),
            )
        ]
