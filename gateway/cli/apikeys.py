"""`jamsos apikeys create`: the API keys submitting agencies sign their uploads with."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from gateway.cli.options import agency_of
from gateway.runtime import gateway


@click.group()
def apikeys() -> None:
    """API keys of submitting agencies."""


@apikeys.command("create")
@click.option("--agency", "agency_code", required=True, help="The agency the key may act for.")
@click.option("--label", default=None, help="Who holds it (e.g. 'BKPSDM Muaro Jambi').")
@with_appcontext
def apikeys_create(agency_code: str, label: str | None) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    agency = agency_of(agency_code)
    token = gateway().registry.create_api_key(agency.code, label)
    click.echo(token)
    click.echo(
        f"Kunci untuk {agency.name} ({agency.code}). Simpan sekarang: tidak akan "
        "ditampilkan lagi. / Store it now: it will not be shown again.",
        err=True,
    )
