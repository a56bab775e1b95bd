"""`jamsos reconcile`: BPJS's facts against the registry (docs/reconcile.md)."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from gateway import clock
from gateway.runtime import gateway

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _rupiah(n: int | None) -> str:
    return "-" if n is None else f"{n:,}".replace(",", ".")


@click.group("reconcile")
def reconcile_group() -> None:
    """Who BPJS covers, what was billed and paid, and the differences with the registry."""


def _run(today: date | None) -> tuple:
    from gateway.cli.options import registry_to_read
    from gateway.reconcile.report import reconciliation

    registry_to_read()  # a folder with no registry: said, not created
    gw = gateway()
    return gw, reconciliation(gw, today=today or clock.today())


@reconcile_group.command("run")
@click.option("--today", type=_DAY, default=None, help="Reconcile as of this day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def run(today: object, as_json: bool) -> None:
    """Reconcile, save the figures (for /metrics) and raise the alerts (overdue bills, lapses,
    registered-but-not-covered rising). What the monthly Airflow DAG runs."""
    from gateway.reconcile.views import figures, raise_reconcile_alerts

    gw, rec = _run(today.date() if today else None)  # type: ignore[attr-defined]
    raised = raise_reconcile_alerts(gw, rec)
    out = figures(rec) | {"alerts": raised}
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    _print_figures(out)
    click.echo(f"peringatan / alerts: {', '.join(raised) or '-'}")


@reconcile_group.command("status")
@click.option("--today", type=_DAY, default=None, help="As of this day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def status(today: object, as_json: bool) -> None:
    """The three coverage figures per agency and province, differences, arrears."""
    from gateway.reconcile.views import figures

    _, rec = _run(today.date() if today else None)  # type: ignore[attr-defined]
    out = figures(rec)
    if as_json:
        click.echo(json.dumps(out, indent=2))
    else:
        _print_figures(out)


def _print_figures(out: dict) -> None:
    click.echo(f"{'INSTANSI / AGENCY':<18} {'DIDAFTAR':>9} {'TERDAFTAR':>10} {'TERLINDUNGI':>12}")
    click.echo(f"{'':<18} {'rostered':>9} {'registered':>10} {'covered':>12}")
    for agency, f in out["agencies"].items():
        click.echo(f"{agency:<18} {f['rostered']:>9} {f['registered']:>10} {f['covered']:>12}")
    click.echo("")
    for kind, n in out["differences"].items():
        click.echo(f"  {kind:<24} {n:>7}")
    for e in out["employers"]:
        if not e["billed"]:
            click.echo(f"  NPP {e['npp']}: belum ada tagihan / no bill yet")
            continue
        lapse = f", berakhir / lapsed {e['lapsed_from']}" if e["lapsed_from"] else ""
        click.echo(f"  NPP {e['npp']}: tunggakan / owed Rp {_rupiah(e['owed'])} "
                   f"({e['months_owed']} bulan / months, {e['days_overdue']} hari / days), "
                   f"denda / late charges Rp {_rupiah(e['late_charges'])}{lapse}")  # fmt: skip


@reconcile_group.command("differences")
@click.option("--agency", default=None, help="Only this agency.")
@click.option("--kind", type=click.Choice(["not_registered", "ended_still_registered",
                                           "other_employer", "wage_differs", "not_on_roster"]),
              default=None)  # fmt: skip
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--today", type=_DAY, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def differences(agency: str | None, kind: str | None, limit: int, today: object,
                as_json: bool) -> None:  # fmt: skip
    """Worker-level differences, each with what to do (NIK masked)."""
    from gateway.cli.options import agency_of
    from gateway.reconcile.views import difference_rows

    gw, rec = _run(today.date() if today else None)  # type: ignore[attr-defined]
    code = agency_of(agency).code if agency else None
    rows = difference_rows(gw, rec, agency=code, kind=kind, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for d in rows:
        click.echo(f"{d['kind']:<23} {d['agency'] or '-':<8} {d['npp'] or '-':<9} "
                   f"{d['nik_masked'] or '-':<17} {d['action_id']}")  # fmt: skip
    if not rows:
        click.echo("Tidak ada selisih. / No differences.")


@reconcile_group.command("billing")
@click.argument("npp")
@click.option("--year", type=int, default=None, help="Fiscal year (default: this year).")
@click.option("--today", type=_DAY, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def billing(npp: str, year: int | None, today: object, as_json: bool) -> None:
    """Expected, billed and paid per month for one NPP."""
    _, rec = _run(today.date() if today else None)  # type: ignore[attr-defined]
    months = rec.months(npp, year or rec.today.year)
    if not months:
        raise click.ClickException(f"NPP {npp} tidak dipetakan / is not mapped "
                                   "(jamsos employers list)")  # fmt: skip
    if as_json:
        click.echo(json.dumps([m.as_dict() for m in months], indent=2))
        return
    click.echo(f"{'BULAN':<8} {'SEHARUSNYA':>12} {'DITAGIH':>12} {'DIBAYAR':>12} "
               f"{'SISA':>12} {'JATUH TEMPO':<11} {'TELAT':>5} {'DENDA':>9} STATUS")  # fmt: skip
    for m in months:
        click.echo(f"{m.month:<8} {_rupiah(m.expected):>12} {_rupiah(m.billed):>12} "
                   f"{_rupiah(m.paid):>12} {_rupiah(m.outstanding):>12} "
                   f"{m.due.isoformat() if m.due else '-':<11} {m.days_overdue:>5} "
                   f"{_rupiah(m.late_charge):>9} {m.status}")  # fmt: skip
