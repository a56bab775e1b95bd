"""`jamsos receipt verify FILE`: a signed receipt checked offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from gateway.cli.output import allocation_line
from gateway.runtime import gateway
from gateway.security.receipts import (
    ALLOCATION_FIELD,
    MAX_RECEIPT_BYTES,
    ReceiptError,
    load_public,
    load_signer,
    parse_receipt,
    verify,
)


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
        # Strictly: a duplicated key or a 5,000-digit number is refused in words (json.load
        # kept the last duplicate, and crashed with a traceback on the number).
        data = parse_receipt(file.read(MAX_RECEIPT_BYTES + 1))  # type: ignore[attr-defined]
    except ReceiptError as exc:
        raise click.ClickException(str(exc)) from exc
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
        declared = data.get(ALLOCATION_FIELD)
        if declared:  # a version-2 receipt: the allocation declared with the roster
            amounts = {k: v for k, v in declared.items() if k != "fiscal_year"}
            click.echo(allocation_line(declared["fiscal_year"], amounts))
        sys.exit(0)
    click.echo(click.style("TIDAK ASLI / NOT GENUINE", fg="red", bold=True)
               + f": {verdict.reason_id} / {verdict.reason_en}")
    sys.exit(1)


def _pem_of(saved: bytes) -> bytes:
    """The PEM in a saved /api/v1/receipt-key answer (JSON), or the file itself."""
    try:
        answer = json.loads(saved)
    except ValueError:  # not JSON, not UTF-8, or a number too long to read: the PEM itself
        return saved
    if isinstance(answer, dict) and isinstance(answer.get("public_key_pem"), str):
        return answer["public_key_pem"].encode()
    return saved
