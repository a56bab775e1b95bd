"""`jamsos deliver`: tell BPJS what changed, through a destination (docs/delivery.md).

`jamsos deliver DESTINATION` is `jamsos deliver run DESTINATION`: the same delivery the
Airflow DAG runs. The other subcommands read the outbox."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway


class DeliverGroup(click.Group):
    """A group whose first argument may be a destination: `deliver X` runs `deliver run X`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("deliver", cls=DeliverGroup)
def deliver_group() -> None:
    """Deliver mutations to BPJS Ketenagakerjaan: `jamsos deliver DESTINATION`."""


@deliver_group.command("run")
@click.argument("destination")
@click.option("--employer", "employer_id", type=int, default=None,
              help="Only this employer (an id from `jamsos employers list`).")
@click.option("--wait", "answer_wait", type=float, default=None,
              help="Seconds to wait for the counterpart's answers (default: its setting).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def run(destination: str, employer_id: int | None, answer_wait: float | None,
        as_json: bool) -> None:  # fmt: skip
    """Derive what BPJS must be told and deliver it through DESTINATION."""
    from gateway.delivery.catalog import UnknownDestination
    from gateway.delivery.outbox import deliver

    try:
        result = deliver(gateway(), destination, employer_id=employer_id, trigger="cli",
                         answer_wait=answer_wait)  # fmt: skip
    except UnknownDestination as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_result(result.as_dict())
    if result.status != "succeeded":
        raise SystemExit(1)


def _print_result(r: dict[str, Any]) -> None:
    c = r["counts"]
    click.echo(f"Pengiriman #{r['delivery_id']} ke {r['destination']}: {r['status']} / "
               f"delivery #{r['delivery_id']} to {r['destination']}: {r['status']}")  # fmt: skip
    words = (("sent", "dikirim", "sent"), ("accepted", "diterima", "accepted"),
             ("rejected", "ditolak", "rejected"), ("retried", "diulang", "retried"),
             ("postponed", "ditunda", "postponed"), ("superseded", "digantikan", "superseded"),
             ("waiting_verification", "menunggu verifikasi", "waiting for verification"),
             ("awaiting_answer", "menunggu jawaban", "awaiting an answer"),
             ("batches", "berkas disiapkan", "batches prepared"))  # fmt: skip
    for key, word_id, word_en in words:
        if c.get(key):
            click.echo(f"  {word_id} / {word_en}: {c[key]}")
    if r["undeliverable"]:
        click.echo(f"  tidak dapat dikirim / cannot be delivered: {r['undeliverable']} "
                   "(jamsos deliver mutations --undeliverable)")  # fmt: skip
    for held in r["refused"]:
        click.echo(f"  NPP {held['npp']}: pengiriman #{held['delivery_id']} sedang berjalan, "
                   "ditolak / another delivery is running, refused")  # fmt: skip
    if r["error"]:
        click.echo(f"  {r['error']}")


@deliver_group.command("status")
@click.option("--agency", default=None, help="Only this agency.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def status(agency: str | None, as_json: bool) -> None:
    """Mutations per employer, month and state."""
    from gateway.cli.options import agency_of, registry_to_read
    from gateway.store.mutations import counts_by_state

    code = agency_of(agency).code if agency else None
    rows = counts_by_state(registry_to_read().engine, agency=code)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("Belum ada mutasi. / No mutations yet.")
        return
    click.echo(f"{'EMPLOYER':>8}  {'MONTH':<7}  {'KIND':<8}  {'STATE':<10}  {'COUNT':>7}")
    for r in sorted(rows, key=lambda r: (r["employer_id"], r["month"], r["kind"], r["state"])):
        click.echo(f"{r['employer_id']:>8}  {r['month']:<7}  {r['kind']:<8}  {r['state']:<10}  "
                   f"{r['n']:>7}")  # fmt: skip


@deliver_group.command("mutations")
@click.option("--agency", default=None, help="Only this agency.")
@click.option("--state", type=click.Choice(["pending", "sent", "accepted", "rejected",
                                            "superseded"]), default=None)  # fmt: skip
@click.option("--undeliverable", is_flag=True,
              help="List the workers that cannot be delivered (no employer rule) instead.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def mutations_command(agency: str | None, state: str | None, undeliverable: bool, limit: int,
                      as_json: bool) -> None:  # fmt: skip
    """List mutations (rejected ones with the reason and what to do)."""
    from gateway.cli.options import agency_of, registry_to_read
    from gateway.delivery.views import undeliverable_workers
    from gateway.store.mutations import list_mutations

    registry_to_read()  # a folder with no registry: said, not created
    gw = gateway()
    code = agency_of(agency).code if agency else None
    if undeliverable:
        rows: list[dict[str, Any]] = undeliverable_workers(gw, code, limit=limit)
    else:
        rows = list_mutations(gw.engine, agency=code, state=state, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for r in rows:
        if undeliverable:
            click.echo(f"{r['agency']:<8} {r['nik_masked']:<18} {r['work_unit'] or '-':<24} "
                       f"{r['message_id']}")  # fmt: skip
            continue
        why = f"  {r['reason_code']}: {r['reason_id']}" if r["state"] == "rejected" else ""
        click.echo(f"{r['id']:>7} {r['agency']:<8} {r['month']} {r['kind']:<8} "
                   f"{r['state']:<10} {r['kpj'] or '':<12}{why}")  # fmt: skip
    if not rows:
        click.echo("Tidak ada. / None.")
