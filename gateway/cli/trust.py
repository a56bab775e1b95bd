"""`jamsos receipt verify`, `jamsos audit verify`, `jamsos keys rotate|status`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.app import gateway
from gateway.cli.output import running_count
from gateway.security.crypto import KeyRingError
from gateway.security.receipts import ReceiptError, load_public, load_signer, verify
from gateway.store import audit, db
from gateway.store.rotation import key_usage, rotate


@click.group()
def receipt() -> None:
    """Signed receipts of submissions and syncs."""


@receipt.command("verify")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False),
              default=None,
              help="The public key: the JSON answer of /api/v1/receipt-key saved to a file, "
                   "or its public_key_pem alone. Default: this gateway's key.")
@with_appcontext
def receipt_verify(file: click.File, public_key: str | None) -> None:
    """Check a receipt offline: exit 0 when genuine, 1 when not."""
    try:
        data = json.load(file)  # type: ignore[arg-type]
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"bukan JSON / not JSON: {exc}") from exc
    # A report saved whole is fine too: take its "receipt".
    if isinstance(data, dict) and "receipt" in data and "signature" not in data:
        data = data["receipt"]
    try:
        public = (load_public(_pem_of(Path(public_key).read_bytes())) if public_key
                  else load_signer(gateway().config, create=False).public)
    except ReceiptError as exc:
        raise click.ClickException(str(exc)) from exc
    verdict = verify(data, public)
    if verdict.genuine:
        click.echo(click.style("ASLI / GENUINE", fg="green", bold=True)
                   + f": run {data['run_id']}, {data['agency']}, {data['accepted']} diterima / "
                     f"accepted, sha256 {data['input_sha256']}")
        sys.exit(0)
    click.echo(click.style("TIDAK ASLI / NOT GENUINE", fg="red", bold=True)
               + f": {verdict.reason_id} / {verdict.reason_en}")
    sys.exit(1)


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the whole chain; names the first edited, removed or reordered entry."""
    verdict = audit.verify(_inspected_engine())
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


@click.command("rotate")
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


@click.command("status")
@with_appcontext
def keys_status() -> None:
    """Which key ids protect how many stored values."""
    gw = gateway()
    usage = key_usage(_inspected_engine())
    for kid in [*gw.keyring.data_keys, *(k for k in usage if k not in gw.keyring.data_keys)]:
        role = "utama / primary" if kid == gw.keyring.primary else (
            "lama / old" if kid in gw.keyring.data_keys else "HILANG / MISSING")
        click.echo(f"  {kid:<12} {role:<16} {usage.get(kid, 0)} nilai / values")


def _inspected_engine() -> Any:
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


def _pem_of(saved: bytes) -> bytes:
    """The PEM in a saved /api/v1/receipt-key answer (JSON), or the file itself."""
    try:
        answer = json.loads(saved)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return saved
    if isinstance(answer, dict) and isinstance(answer.get("public_key_pem"), str):
        return answer["public_key_pem"].encode()
    return saved

