"""Every extension point of the gateway: the contract between the gateway and its plugins.

A plugin is a module (or object) with functions decorated `@gateway.hookimpl` whose names and
parameters are those below; it may take any subset of a hook's parameters, in any order. The
gateway always calls hooks with keyword arguments, and no parameter has a default, so a
plugin's signature is checked when it is registered and a misspelled hook name fails loudly
(`make_plugin_manager()` calls `check_pending()`). docs/writing-a-plugin.md documents each hook
and tests/plugins/test_hookspecs.py checks that it does and that a test exercises each one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from gateway.delivery.base import Destination
    from gateway.domain.alerts import Alert, AlertSettings
    from gateway.domain.records import Problem, RawRow, RowResult
    from gateway.sources.base import Source
    from gateway.verify.elements import Person, Verdict, VerifierSettings

PROJECT = "jamsos_gateway"  # also the entry-point group plugins are found by

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_sources() -> list[type[Source]]:  # type: ignore[empty-body]
    """Return the Source classes (CsvSource, SoapSource subclasses) this plugin provides.

    Each class has a unique `id` (e.g. "kemenkes-ppnpn") and the `agency` that feeds it. The
    gateway instantiates a class once per sync with that source's settings from
    config/sources.toml; a `[sources.<id>]` table with `type = "<class id>"` makes another
    instance of the same class (e.g. one regional roster source per regency).
    """


@hookspec
def register_destinations() -> list[type[Destination]]:  # type: ignore[empty-body]
    """Return the Destination classes (gateway.delivery.base) this plugin provides.

    Each class has a unique `id` (e.g. "bpjs-h2h") and a `channel`, "push" (it sends to the
    counterpart itself) or "file" (it writes files staff upload). The gateway makes one
    instance per delivery with that destination's settings from config/destinations.toml;
    which employers it serves is the registry's employer mapping (`jamsos employers`).
    """


@hookspec
def validate_record(source: Source, raw: RawRow, result: RowResult) -> list[Problem] | None:
    """Return agency-specific problems for one row that passed or failed shared validation.

    Called for every row of every sync, after the shared rules (NIK, dates, money, ...):
    `result.record` is the EnrollmentRecord, or None when the row is already rejected. Check
    `source.agency` and return nothing for sources you do not know. Also called for every row
    uploaded for an agency one of this plugin's sources feeds (API, dashboard, `jamsos
    roster`), with `source.id` "upload" (gateway/roster/intake.py). A returned problem of
    severity error rejects the row; a warning keeps it. Never raise for bad data: an
    exception fails a run of the plugin's own sources (and is disabled with a warning on the
    runs of other plugins' sources).
    """


@hookspec
def after_run(source: Source, run: dict[str, Any]) -> None:
    """React to a finished sync (notify someone, update a dashboard): `run` is the run record.

    Called for every run: succeeded, rejected or failed (`run["status"]`, `run["error"]`).
    An exception here is reported as a warning; the run's outcome stands.
    """


@hookspec
def send_alert(alert: Alert, settings: AlertSettings) -> None:
    """Deliver an alert (e-mail, chat, a pager): a feed late past its schedule, a sync still
    failing after its retries, a run that ended an unusual share of an agency's workers, and
    whatever else the gateway or a scheduler raises (`alert.kind`; gateway/alerts.py).

    Called only on plugins with an `[alerts.<plugin>]` table in config/gateway.toml, and only
    for alerts at least its `min_severity` (default "warning"); `settings.setting("password")`
    resolves `$env:`/`$file:` references. `alert.subject` and `alert.text()` are ready to
    send; no NIK is ever in an alert. The same alert is delivered once (again only after
    ALERT_REPEAT_HOURS). Raise if it could not be delivered: the failure is recorded and
    logged, other plugins still deliver, and whoever raised the alert carries on.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands to the `jamsos` command line, e.g. `cli.add_command(my_group)`.

    Called once when `jamsos` starts. Keep the import of your command's dependencies inside
    the command so that `jamsos --help` stays fast.
    """


@hookspec
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]] | None:
    """For `jamsos demo load` (and `make run`): make demo input for your sources.

    Write sample files under `instance_path` or start a demo server on 127.0.0.1, and return
    settings per source id (as in config/sources.toml) to sync with now, e.g.
    `{"kemendes-pendamping": {"folder": ".../drop"}}`. Never touch a real agency's system.
    """


@hookspec
def verify_identities(people: list[Person], settings: VerifierSettings) -> list[Verdict] | None:
    """Check people's elements against the population registry (docs/verification.md).

    Called only on the plugin named by `[verification] provider` in config/gateway.toml, with
    a batch of `Person`s and that plugin's `[verification.<name>]` settings (`settings.
    setting("password")` resolves `$env:`/`$file:` references; `settings.threshold` is the
    score an element needs). Return one `Verdict` per person (by `ref`): a verdict about the
    person (match, mismatch with elements and scores, not_found, deceased, inactive, several,
    unprocessable) or a condition of the service (quota, outside_hours, unavailable, refused),
    after which the person is asked again later and never counted as failed. Once the quota
    or the hours stop you, answer the rest with that condition without calling the service.
    A person left out counts as unavailable; an exception stops the pass the same way.
    """
