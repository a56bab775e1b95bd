"""`jamsos audit verify|log|checkpoint|export-checkpoints`: the hash-chained audit log and its
signed checkpoints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.cli.options import inspected_engine
from gateway.cli.receipt import _pem_of
from gateway.runtime import gateway
from gateway.security.receipts import ReceiptError, load_public, load_signer
from gateway.store import audit
from gateway.store.db import writing


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


def _publics(files: tuple[str, ...]) -> list[Any]:
    """The receipt keys checkpoints are checked with: the files given (a key used before a
    new JAMSOS_RECEIPT_KEY too), else this gateway's own key, if it has one."""
    try:
        if files:
            # A PEM, or the /api/v1/receipt-key answer saved whole, as `receipt verify` takes.
            return [load_public(_pem_of(Path(f).read_bytes())) for f in files]
        return [load_signer(gateway().config, create=False).public]
    except ReceiptError as exc:
        if files:
            raise click.ClickException(str(exc)) from exc
        return []


def _read_export(path: str | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        for row in rows:  # what verify_all reads of each, of the types it expects
            if not (isinstance(row, dict) and isinstance(row.get("id"), int)
                    and all(isinstance(row.get(k), str) for k in ("body", "signature",
                                                                  "key_id"))):
                raise ValueError("not an exported checkpoint (id, body, signature, key_id)")
        return rows
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"tidak terbaca / unreadable: {path}: {exc}") from exc


@audit_group.command("verify")
@click.option("--public-key", "public_keys", multiple=True,
              type=click.Path(exists=True, dir_okay=False),
              help="A receipt public key checkpoints are checked with (PEM, or the saved "
                   "answer of /api/v1/receipt-key); repeat for a key used before. Default: "
                   "this gateway's receipt key.")
@click.option("--checkpoints", "exported", type=click.Path(exists=True, dir_okay=False),
              default=None,
              help="Checkpoints exported earlier (export-checkpoints), kept outside the "
                   "database: checked too, and against the stored ones.")
@with_appcontext
def audit_verify(public_keys: tuple[str, ...], exported: str | None) -> None:
    """Check the whole chain, its signed checkpoints and the runs against both; names the
    first edited, removed or reordered entry, a rewritten chain and a deleted or edited run."""
    engine = inspected_engine()
    verdict = audit.verify_all(engine, _publics(public_keys), _read_export(exported))
    for note in verdict.notes:
        click.echo(f"Catatan / note: {note}", err=True)
    chain = verdict.chain
    if not chain.ok:
        click.echo(click.style(f"RANTAI RUSAK / CHAIN BROKEN at entry {chain.first_bad}: "
                               f"{chain.reason}", fg="red", bold=True))
    for problem in verdict.problems[:20]:
        click.echo(click.style(f"TIDAK COCOK / MISMATCH: {problem}", fg="red", bold=True))
    if len(verdict.problems) > 20:
        click.echo(f"... dan / and {len(verdict.problems) - 20} lagi / more")
    if verdict.ok:
        signed = (f", titik periksa / checkpoint {verdict.last_checkpoint} "
                  f"({verdict.checkpoints} diperiksa / checked)" if verdict.last_checkpoint
                  else ", belum ada titik periksa / no checkpoint yet")
        click.echo(f"Rantai utuh / chain intact: {chain.entries} entri / entries, "
                   f"head {chain.head}{signed}")
        sys.exit(0)
    sys.exit(1)


@audit_group.command("checkpoint")
@click.option("--quick", is_flag=True,
              help="Leave out the history digest (which reads every history row), as the "
                   "checkpoint written after each run does.")
@with_appcontext
def audit_checkpoint(quick: bool) -> None:
    """Sign the chain's head and the registry's digests now with the receipt key."""
    gw = gateway()
    with writing(gw.registry.engine) as conn:
        row = audit.checkpoint(conn, gw.signer, full=not quick)
    click.echo(f"Titik periksa / checkpoint {row['id']}: entri / entry {row['seq']}, "
               f"kunci / key {row['key_id']}")


@audit_group.command("export-checkpoints")
@click.argument("file", type=click.File("w", encoding="utf-8"))
@with_appcontext
def audit_export(file: Any) -> None:
    """Write every signed checkpoint (one JSON object a line; "-" for standard output): keep
    it outside the database, and pass it to `audit verify --checkpoints`."""
    rows = audit.export_checkpoints(inspected_engine())
    for row in rows:
        file.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    click.echo(f"{len(rows)} titik periksa / checkpoints", err=True)


@audit_group.command("log")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def audit_log(limit: int) -> None:
    """The newest audit entries."""
    for e in audit.recent(gateway().registry.engine, limit):
        click.echo(f"{e['seq']:>6} {e['at'][:19]} {e['actor']:<10} {e['action']:<18} "
                   f"{e['subject']:<20} {e['details']}")
