"""What several command groups share that is not printing (that is `output.py`): the agency an
--agency option names, and the database of a command that only inspects it."""

from __future__ import annotations

from pathlib import Path
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


def registry_to_read(*, required: bool = True) -> Any:
    """The registry for a command that only reads it (`jamsos runs`, `jamsos sources`).

    Run in a folder with no registry, such a command used to create an empty one there, with
    new keys, and answer "no runs yet". An embedded SQLite registry that does not exist is
    refused instead, naming where it was looked for and how to point at the right one; with
    `required=False` that is a note on stderr and the answer is None (the command shows what
    it knows without a registry)."""
    gw = gateway()
    url = str(gw.config["DATABASE_URL"])
    if db.is_sqlite(url) and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            instance = gw.config["INSTANCE_PATH"]
            missing = click.ClickException(
                f"Tidak ada registri di {path} (folder instance {instance}): jalankan perintah "
                "dari folder gateway, atau atur JAMSOS_INSTANCE_PATH atau JAMSOS_DATABASE_URL "
                "(atau [gateway] di config/gateway.toml); registri baru dibuat dengan `jamsos "
                f"db upgrade`. / No registry at {path} (instance folder {instance}): run the "
                "command from the gateway's folder, or set JAMSOS_INSTANCE_PATH or "
                "JAMSOS_DATABASE_URL (or [gateway] in config/gateway.toml); `jamsos db "
                "upgrade` creates a new registry."
            )
            if required:
                raise missing
            click.echo(f"Catatan / note: {missing.message}", err=True)
            return None
    return gw.registry
