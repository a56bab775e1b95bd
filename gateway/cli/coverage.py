"""`jamsos coverage`: enrolled workers against the targets per province, regency/city and
ministry."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from gateway.budget.coverage import TargetsError, coverage, load_targets
from gateway.cli.options import registry_to_read


@click.command("coverage")
@click.option(
    "--targets",
    "targets_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Targets file (default: config/targets.toml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def coverage_command(targets_file: str | None, as_json: bool) -> None:
    """Enrolled workers against targets per province, regency/city and agency."""
    try:
        targets = load_targets(targets_file)
    except TargetsError as exc:
        raise click.BadParameter(str(exc), param_hint="--targets") from exc
    result = coverage(registry_to_read().engine, targets)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    titles = {
        "provinces": "Provinsi / Provinces",
        "regencies": "Kabupaten/Kota / Regencies",
        "agencies": "Kementerian / Ministries",
    }
    for kind, rows in result.items():
        if not rows:
            continue
        click.echo(click.style(titles[kind], bold=True))
        for r in rows:
            target = f"{r['target']:,}".replace(",", ".") if r["target"] else "-"
            pct = f"{r['percent']:.3f} %" if r["percent"] is not None else ""
            reported = (
                f"  (dilaporkan / reported {r['reported_percent']} %)"
                if r["reported_percent"] is not None
                else ""
            )
            click.echo(
                f"  {r['code']:<9} {r['name'][:38]:<38} {r['enrolled']:>9}  "
                f"target {target:>11} {pct}{reported}"
            )
