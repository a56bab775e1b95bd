"""`jamsos runs`: recent runs (submissions and syncs), newest first."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from gateway.cli.options import agency_of, registry_to_read
from gateway.store.runs import run_json


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
    code = agency_of(agency_code).code if agency_code else None
    runs = [run_json(r) for r in registry_to_read().list_runs(agency=code, limit=limit)]
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
