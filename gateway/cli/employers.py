"""`jamsos employers`: how BPJS knows each agency as an employer (docs/delivery.md)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from gateway.delivery.employers import SEGMENTS, EmployerError, register_employer
from gateway.runtime import gateway
from gateway.store import employers as store


@click.group("employers")
def employers_group() -> None:
    """Map agencies to BPJS employers: an NPP (per work unit, or the whole agency) or a wadah."""


@employers_group.command("add")
@click.argument("agency")
@click.option("--npp", required=True, help="The employer registration number (8 digits).")
@click.option("--division", default=None, help="The SIPP division (divisi) code, e.g. 001.")
@click.option("--work-unit", default=None,
              help='Only workers of this roster work unit ("Dinas Kesehatan", "Puskesmas *"); '
                   "without it: the agency's workers no other rule takes.")
@click.option("--wadah", "segment", type=click.Choice(sorted(SEGMENTS)), default=None,
              help="A collective registration (wadah) for pekerja rentan, with its segment: "
                   "SG government, SD village (APBDes), SA village (APBD), SL other village "
                   "funds.")
@click.option("--destination", required=True,
              help="The destination plugin that delivers it (see `jamsos plugins list`).")
@click.option("--name", default=None, help="The employer's name as BPJS has it.")
@with_appcontext
def add(agency: str, npp: str, division: str | None, work_unit: str | None,
        segment: str | None, destination: str, name: str | None) -> None:  # fmt: skip
    """Register how BPJS knows AGENCY (a ministry code or a region code) as an employer."""
    try:
        rule = register_employer(
            gateway(), agency=agency, kind="wadah" if segment else "npp", npp=npp,
            division=division, segment=segment, work_unit=work_unit, destination=destination,
            name=name,
        )  # fmt: skip
    except EmployerError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Pemberi kerja #{rule.id} dicatat / employer #{rule.id} registered: "
               f"{rule.agency} NPP {rule.npp} -> {rule.destination}")  # fmt: skip


@employers_group.command("list")
@click.option("--agency", default=None, help="Only this agency's employers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def list_command(agency: str | None, as_json: bool) -> None:
    """List the employer mapping."""
    from gateway.cli.options import agency_of, registry_to_read

    code = agency_of(agency).code if agency else None
    rows = store.list_employers(registry_to_read().engine, agency=code)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("Belum ada pemberi kerja. / No employers yet: jamsos employers add --help")
        return
    click.echo(f"{'ID':>4}  {'AGENCY':<8} {'KIND':<6} {'NPP':<9} {'DIV':<5} {'SEG':<4} "
               f"{'DESTINATION':<14} WORK UNIT")  # fmt: skip
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['agency']:<8} {r['kind']:<6} {r['npp']:<9} "
                   f"{r['division'] or '-':<5} {r['segment'] or '-':<4} {r['destination']:<14} "
                   f"{r['work_unit'] or '(semua unit / every unit)'}")  # fmt: skip


@employers_group.command("remove")
@click.argument("employer_id", type=int)
@with_appcontext
def remove(employer_id: int) -> None:
    """Remove a mapping nothing was derived under yet."""
    engine = gateway().engine
    if store.get_employer(engine, employer_id) is None:
        raise click.ClickException(f"Pemberi kerja #{employer_id} tidak ada / no such employer")
    if not store.remove_employer(engine, employer_id):
        raise click.ClickException(
            f"Pemberi kerja #{employer_id} sudah punya mutasi; tidak dihapus / employer "
            f"#{employer_id} already has mutations; not removed")  # fmt: skip
    click.echo(f"Pemberi kerja #{employer_id} dihapus / removed")
