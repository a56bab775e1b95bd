"""`jamsos audit verify|log`: the hash-chained audit log."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.cli.options import inspected_engine
from gateway.runtime import gateway
from gateway.store import audit


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the whole chain; names the first edited, removed or reordered entry."""
    verdict = audit.verify(inspected_engine())
    if verdict.ok:
        click.echo(f"Rantai utuh / chain intact: {verdict.entries} entri / entries, "
                   f"head {verdict.head}")
        sys.exit(0)
    click.echo(click.style(f"RANTAI RUSAK / CHAIN BROKEN at entry {verdict.first_bad}: "
                           f"{verdict.reason}", fg="red", bold=True))
    sys.exit(1)


@audit_group.command("log")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def audit_log(limit: int) -> None:
    """The newest audit entries."""
    for e in audit.recent(gateway().registry.engine, limit):
        click.echo(f"{e['seq']:>6} {e['at'][:19]} {e['actor']:<10} {e['action']:<18} "
                   f"{e['subject']:<20} {e['details']}")
