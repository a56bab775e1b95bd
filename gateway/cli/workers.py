"""`jamsos workers find NIK`: a worker in the registry, masked, with their enrollments and
what each run changed."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from gateway.cli.options import registry_to_read
from gateway.cli.output import rupiah
from gateway.domain.nik import normalize_nik


@click.group()
def workers() -> None:
    """Look workers up in the registry."""


@workers.command("find")
@click.argument("nik", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def workers_find(nik: str | None, as_json: bool) -> None:
    """Find a worker by NIK (shown masked) and list their enrollments. Without NIK (or with
    "-") it is read from standard input, so it stays out of the shell's history and the
    process list.

    Exit status 1 when the NIK is not in the registry, 2 when it is not 16 digits."""
    if nik is None or nik == "-":
        if sys.stdin.isatty():
            nik = click.prompt("NIK", hide_input=True, err=True)
        else:
            nik = sys.stdin.readline()
    wanted = normalize_nik(nik or "")
    if len(wanted) != 16 or not wanted.isdigit():  # "abcd" is a typo, not an unknown worker
        raise click.BadParameter("NIK terdiri dari 16 angka / a NIK is 16 digits", param_hint="NIK")
    found = registry_to_read().find_worker(wanted)
    if found is None:
        click.echo("NIK tidak terdaftar. / NIK not in the registry.", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"NIK {found['nik']}  {found['name']}  {found['gender']}  lahir {found['birth_date']}"
    )
    for e in found["enrollments"]:
        end = f" s.d. {e['end_date']}" if e["end_date"] else ""
        click.echo(
            f"  {e['agency']:<10} {e['status']:<7} {e['category']:<16} "
            f"{rupiah(e['wage'])} sejak {e['start_date']}{end}"
        )
        b = e["bpjs"]  # what BPJS was told and answered (docs/delivery.md)
        why = f": {b['reason_id']} / {b['reason_en']}" if b["reason_id"] else ""
        click.echo(f"    BPJS: {b['status_id']} / {b['status_en']}"
                   f"{'  KPJ ' + b['kpj'] if b['kpj'] else ''}{why}")  # fmt: skip
        for h in e["history"]:
            click.echo(f"    {h['at'][:10]}  run {h['run_id']:<6} {_change_text(h)}")


_CHANGES = {
    "new": "baru / new",
    "changed": "berubah / changed",
    "ended": "diakhiri / ended",
    "reactivated": "aktif lagi / reactivated",
}


def _change_text(h: dict) -> str:
    """One history entry: the change, and which enrolled facts it changed (old -> new)."""
    before, after = h["before"] or {}, h["after"] or {}
    moved = [
        f"{k} {_fact(before.get(k))} -> {_fact(after.get(k))}"
        for k in after
        if before and before.get(k) != after.get(k) and k not in ("status", "identity")
    ]
    if after.get("identity") == "changed":  # a name is never shown here, only that it moved
        moved.append("nama atau data identitas / name or identity details")
    text = _CHANGES.get(h["change"], h["change"])
    return f"{text}: {'; '.join(moved)}" if moved else text


def _fact(value: object) -> str:
    if isinstance(value, int):
        return rupiah(value)
    return "-" if value is None else str(value)
