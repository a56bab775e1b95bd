"""`jamsos demo load`: synthetic agencies' rosters, the plugins' demo feeds, and a way in."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway import clock
from gateway.cli.options import agency_of
from gateway.roster import intake
from gateway.runtime import gateway


@click.group()
def demo() -> None:
    """Demo data: synthetic agencies and rosters."""


@demo.command("load")
@with_appcontext
def demo_load() -> None:
    """Generate the demo rosters and submit them (again: nothing changes)."""
    from gateway.demo.agencies import demo_rosters

    gw = gateway()
    folder = Path(gw.config["INSTANCE_PATH"]) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in demo_rosters():
        path = folder / spec.filename
        if not path.exists():  # generated once: the same bytes again are an idempotent replay
            path = spec.write(folder)
        agency = agency_of(spec.agency)
        report = intake.submit(gw, path, agency=agency, trigger="demo").report
        click.echo(
            f"{agency.name:<40} {report.accepted:>5} diterima / accepted, "
            f"{report.rejected:>3} ditolak / rejected  (run {report.run_id}"
            f"{', sudah ada / already loaded' if report.replayed else ''})"
        )
    sync_demo_sources(gw)  # the plugins' demo feeds: a SOAP service, drop folders, SIPD
    click.echo(_demo_credentials(gw, folder))


def sync_demo_sources(gw: Any) -> None:
    """Let each plugin prepare demo input (`prepare_demo`), then sync those sources,
    printing one line each. A plugin's failure is printed, never raised."""
    from gateway.roster.sync import sync_source
    from gateway.sources.loader import source_catalog

    pm = gw.plugins
    settings: dict[str, dict[str, Any]] = {}
    for impl in pm.hook.prepare_demo.get_hookimpls():
        try:
            settings.update(impl.function(instance_path=gw.config["INSTANCE_PATH"]) or {})
        except Exception as exc:
            click.echo(f"plugin {impl.plugin_name}: prepare_demo gagal / failed: {exc}", err=True)
    catalog = source_catalog(pm, settings)
    for source_id in settings:
        if source_id not in catalog:
            continue
        source = catalog[source_id].create()
        result = sync_source(gw.registry, pm, source, today=clock.today(), trigger="demo")
        report = result.report
        if report is None:
            detail = "tidak ada yang baru / nothing new"
        else:
            detail = (
                f"{report.accepted:>5} diterima / accepted, {report.rejected:>3} ditolak / "
                f"rejected  (run {report.run_id}, {result.status})"
            )
        click.echo(f"{'sumber / source ' + source_id:<40} {detail}")
    # The BPJS side: the demo agencies as employers, delivered to the loopback BPJS service a
    # destination plugin started (docs/delivery.md).
    from gateway.demo.employers import deliver_demo

    try:
        for line in deliver_demo(gw, settings):
            click.echo(line)
    except Exception as exc:  # the demo's registry stands without it: say so, carry on
        click.echo(f"pengiriman demo gagal / demo delivery failed: {exc}", err=True)
    # What BPJS sends back: membership lists, bills and payments, synced (docs/reconcile.md).
    from gateway.demo.bpjs_facts import sync_bpjs_facts

    try:
        for line in sync_bpjs_facts(gw):
            click.echo(line)
    except Exception as exc:  # as above: the rest of the demo stands without it
        click.echo(f"berkas BPJS demo gagal / demo BPJS files failed: {exc}", err=True)


def _demo_credentials(gw: Any, folder: Path) -> str:
    """A demo staff login and a Muaro Jambi API key, made once (random, never a known
    password) and kept in instance/demo/credentials.txt (0600) so every `make run` can say
    how to get in."""
    from gateway.store.users import count_users, create_user

    path = folder / "credentials.txt"
    if not path.exists() and count_users(gw.registry.engine) == 0:
        password = secrets.token_urlsafe(12)
        create_user(gw.registry.engine, "demo", password, role="viewer",
                    display_name="Petugas Demo")
        key = gw.registry.create_api_key("15.05", "demo: BKPSDM Muaro Jambi")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(
                "Dasbor / dashboard: http://127.0.0.1:8000/dashboard/\n"
                f"  pengguna / user: demo   kata sandi / password: {password}\n"
                f"Kunci API Kabupaten Muaro Jambi (15.05) / API key: {key}\n"
            )
    if path.exists():
        return f"\n{path.read_text()}(disimpan di / kept in {path})"
    return "Buat pengguna dasbor / create a dashboard user: jamsos users create NAME"
