"""`jamsos keys generate|rotate|status`: the encryption keys of NIK and name, and the receipt
signing key a production instance is given."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from gateway.cli.options import inspected_engine
from gateway.cli.output import running_count
from gateway.runtime import gateway
from gateway.security.crypto import generate_keyring
from gateway.store.rotation import key_usage, rotate


@click.group()
def keys() -> None:
    """Encryption keys for NIK and name."""


@keys.command("generate")
@click.option("--key-id", default=None, help="Id of the new data key (default: random).")
@click.option(
    "--receipt-key",
    "receipt_key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a new Ed25519 receipt signing key (PEM, mode 0600) to this file and "
    "print JAMSOS_RECEIPT_KEY referring to it. Refuses an existing file.",
)
def keys_generate(key_id: str | None, receipt_key: Path | None) -> None:
    """Print fresh keys as environment variables for production.

    On a rotation, take only the new JAMSOS_DATA_KEYS entry: the index key never changes
    (see docs/security.md)."""
    from gateway.security.receipts import write_private_key

    for name, value in generate_keyring(key_id).to_env().items():
        click.echo(f"{name}={value}")
    if receipt_key is not None:
        try:
            write_private_key(receipt_key)
        except FileExistsError as exc:
            raise click.BadParameter(
                f"{receipt_key} sudah ada / already exists: a receipt key is never overwritten "
                "(receipts it signed would no longer verify)",
                param_hint="--receipt-key",
            ) from exc
        click.echo(f"JAMSOS_RECEIPT_KEY=$file:{receipt_key.resolve()}")


@keys.command("rotate")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def keys_rotate(batch_size: int) -> None:
    """Re-encrypt stored NIKs and names under the first key of JAMSOS_DATA_KEYS.

    Runs in small transactions while the gateway keeps serving. Keep the old keys configured
    (after the new one) until `jamsos keys status` shows nothing under them.
    """
    gw = gateway()
    progress = running_count(lambda done: f"{done:,} baris / rows".replace(",", "."))
    n = rotate(gw.registry.engine, gw.keyring, batch_size=batch_size, progress=progress)
    if sys.stderr.isatty():
        click.echo("", err=True)  # end the line the count was rewriting
    click.echo(f"Dienkripsi ulang / re-encrypted: {n} pekerja / workers under key "
               f"{gw.keyring.primary}")


@keys.command("status")
@with_appcontext
def keys_status() -> None:
    """Which key ids protect how many stored values."""
    gw = gateway()
    usage = key_usage(inspected_engine())
    for kid in [*gw.keyring.data_keys, *(k for k in usage if k not in gw.keyring.data_keys)]:
        role = "utama / primary" if kid == gw.keyring.primary else (
            "lama / old" if kid in gw.keyring.data_keys else "HILANG / MISSING")
        click.echo(f"  {kid:<12} {role:<16} {usage.get(kid, 0)} nilai / values")
