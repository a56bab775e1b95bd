"""`jamsos runs` and `jamsos workers find`: what was applied, and to whom."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext

from gateway.app import gateway
from gateway.domain.agencies import Agency, UnknownAgency, resolve_agency
from gateway.domain.nik import normalize_nik


def agency_of(code: str) -> Agency:
    """An --agency option's agency, or a usage error naming the option."""
    try:
        return resolve_agency(code)
    except UnknownAgency as exc:
        raise click.BadParameter(str(exc), param_hint="--agency") from exc


@click.command("runs")
@click.option("--agency", "agency_code", default=None, help="Only this agency's runs.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many runs, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def runs_command(agency_code: str | None, limit: int, as_json: bool) -> None:
    """List recent runs (submissions and syncs)."""
    from gateway.api import run_json

    code = agency_of(agency_code).code if agency_code else None
    runs = [run_json(r) for r in gateway().registry.list_runs(agency=code, limit=limit)]
    if as_json:
        click.echo(json.dumps(runs, indent=2))
        return
    if not runs:
        click.echo("Belum ada run. / No runs yet.")
        return
    click.echo(
        f"{'ID':>5}  {'AGENCY':<10} {'STATUS':<10} {'ROWS':>8} {'OK':>8} {'REJ':>6} "
        f"{'NEW':>6} {'CHG':>6} {'END':>6}  {'STARTED':<19}  ERROR"
    )
    for r in runs:
        # Why a run failed (or was refused as a file) is what an operator reads this for.
        why = f"  {r['error'][:70]}" if r.get("error") else ""
        click.echo(
            f"{r['id']:>5}  {r['agency']:<10} {r['status']:<10} {r['rows']:>8} {r['accepted']:>8} "
            f"{r['rejected']:>6} {r['new']:>6} {r['changed']:>6} {r['ended']:>6}  "
            f"{(r['started_at'] or '')[:19]}{why}"
        )


@click.group()
def workers() -> None:
    """Look workers up in the registry."""


@workers.command("find")
@click.argument("nik")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def workers_find(nik: str, as_json: bool) -> None:
    """Find a worker by NIK (shown masked) and list their enrollments.

    Exit status 1 when the NIK is not in the registry, 2 when it is not 16 digits."""
    wanted = normalize_nik(nik)
    if len(wanted) != 16 or not wanted.isdigit():  # "abcd" is a typo, not an unknown worker
        raise click.BadParameter("NIK terdiri dari 16 angka / a NIK is 16 digits", param_hint="NIK")
    found = gateway().registry.find_worker(wanted)
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
            f"Rp {e['wage']:,} sejak {e['start_date']}{end}".replace(",", ".")
        )
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
        return f"Rp {value:,}".replace(",", ".")
    return "-" if value is None else str(value)
