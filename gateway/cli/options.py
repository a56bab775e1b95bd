"""What several command groups share that is not printing (that is `output.py`): the agency an
--agency option names, and the database of a command that only inspects it."""

from __future__ import annotations

from typing import Any

import click

from gateway.domain.agencies import Agency, UnknownAgency, resolve_agency
from gateway.runtime import gateway
from gateway.security.crypto import KeyRingError
from gateway.store import db


def agency_of(code: str) -> Agency:
    """An --agency option's agency, or a usage error naming the option."""
    try:
        return resolve_agency(code)
    except UnknownAgency as exc:
        raise click.BadParameter(str(exc), param_hint="--agency") from exc


def inspected_engine() -> Any:
    """The registry's database for a command that only inspects it (the audit chain, which
    key protects how many values). Such a command must also answer where the keys do not
    open the data, e.g. a backup restored from before a rotation: that is when it is needed.
    The schema must still be at head."""
    gw = gateway()
    try:
        return gw.registry.engine
    except KeyRingError as exc:
        click.echo(f"Catatan / note: {exc}", err=True)
        db.check_schema(gw.engine)
        return gw.engine
