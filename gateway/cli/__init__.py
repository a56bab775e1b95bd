"""The `jamsos` command line, built on Flask's CLI so it shares the application factory."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import FlaskGroup, with_appcontext

from gateway import clock
from gateway.app import create_app, gateway
from gateway.budget.allocation import declare_allocation, parse_allocation
from gateway.cli.budget import budget, coverage_command
from gateway.cli.contributions import contributions
from gateway.cli.output import print_report, progress_bar
from gateway.cli.plugins import (
    plugin_group,
    plugins_group,
    register_plugin_commands,
    sources_command,
    sync_command,
    sync_demo_sources,
)
from gateway.cli.trust import audit_group, keys_rotate, keys_status, receipt
from gateway.cli.users import users_group
from gateway.cli.workers import agency_of, runs_command, workers
from gateway.config import ConfigError
from gateway.domain.agencies import Agency
from gateway.domain.records import Category
from gateway.roster.report import ALLOCATION_NOT_RECORDED
from gateway.roster.run import RunFailed, check_roster, submit_roster
from gateway.security.crypto import KeyRingError, generate_keyring
from gateway.store.db import StoreError


class JamsosGroup(FlaskGroup):
    """Flask's CLI group, with the gateway's own start-up errors shown as one clear line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, KeyRingError, StoreError) as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(
    cls=JamsosGroup, create_app=create_app, add_default_commands=False, add_version_option=False
)
# The gateway's version (Flask's own option printed Python's, Flask's and Werkzeug's).
@click.version_option(package_name="jamsos-gateway", prog_name="jamsos")
def main() -> None:
    """Jamsos Gateway: enrol government non-ASN workers into BPJS Ketenagakerjaan.

    Settings come from config/gateway.toml and JAMSOS_* environment variables
    (JAMSOS_DATABASE_URL, JAMSOS_INSTANCE_PATH, JAMSOS_DATA_KEYS, JAMSOS_INDEX_KEY).
    """


# `roster check` without --agency: a regional government's roster (honorer by default).
REGIONAL_ROSTER = Agency("-", "roster daerah / regional roster", "regency", Category.HONORER)


main.add_command(contributions)
main.add_command(budget)
main.add_command(receipt)
main.add_command(audit_group)
main.add_command(coverage_command)
main.add_command(users_group)
main.add_command(runs_command)
main.add_command(workers)


# -- rosters ----------------------------------------------------------------------------------
@main.group()
def roster() -> None:
    """Check or submit a roster file (CSV or XLSX)."""


@roster.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agency",
    "agency_code",
    default=None,
    help="Agency code; sets the default worker category (default: a regional roster).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the machine report as JSON.")
@with_appcontext
def roster_check(file: Path, agency_code: str | None, as_json: bool) -> None:
    """Validate FILE without writing anything. Exit status 1 when a row has an error."""
    agency = agency_of(agency_code) if agency_code else REGIONAL_ROSTER
    with progress_bar(file, enabled=not as_json) as progress:
        report = check_roster(
            file,
            agency=agency,
            today=clock.today(),
            progress=progress,
            batch_size=gateway().config["BATCH_SIZE"],
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report)
    sys.exit(1 if report.rejected or report.status == "rejected" else 0)


@roster.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--agency",
    "agency_code",
    required=True,
    help="Agency code: ministry (kemenkes) or Kemendagri region (15.05).",
)
@click.option("--year", "fiscal_year", type=click.IntRange(2000, 2100), default=None,
              help="Fiscal year of the allocation declared with --allocation.")
@click.option("--allocation", default=None,
              help="Budget allocated for the year, e.g. jkk=24.000.000,jkm=30.000.000 "
                   "(programs jkk, jkm, jht, jp).")
@click.option("--json", "as_json", is_flag=True, help="Print the machine report as JSON.")
@with_appcontext
def roster_submit(
    file: Path, agency_code: str, fiscal_year: int | None, allocation: str | None,
    as_json: bool,
) -> None:
    """Apply FILE as the complete roster of an agency.

    Workers in the file are added or updated; the agency's workers missing from it are ended
    (never deleted). The same file again changes nothing. A regional government may declare
    its budget allocation for a fiscal year with it (--year and --allocation). Exit status 1
    when the file could not be applied.
    """
    agency = agency_of(agency_code)
    amounts = _allocation(agency, fiscal_year, allocation)
    try:
        with progress_bar(file, enabled=not as_json) as progress:
            report = submit_roster(
                gateway().registry,
                file,
                agency=agency,
                today=clock.today(),
                trigger="cli",
                progress=progress,
                batch_size=gateway().config["BATCH_SIZE"],
            )
    except RunFailed as exc:
        report = exc.report
    out = report.as_dict()
    if amounts and fiscal_year and report.status == "succeeded":
        declare_allocation(gateway().registry.engine, agency.code, fiscal_year, amounts,
                           report.run_id)
        out["declared_allocation"] = {"fiscal_year": fiscal_year, **amounts}
    elif amounts:
        out["declared_allocation"] = None
        out["allocation_note"] = ALLOCATION_NOT_RECORDED.as_message()
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print_report(report)
        if out.get("declared_allocation"):
            click.echo(f"  Alokasi {fiscal_year} dicatat / allocation recorded: " + ", ".join(
                f"{p} Rp {a:,}".replace(",", ".") for p, a in amounts.items()))
        elif amounts:
            click.echo(f"  {ALLOCATION_NOT_RECORDED.both}")
    sys.exit(0 if report.status == "succeeded" else 1)


def _allocation(agency: Agency, fiscal_year: int | None, text: str | None) -> dict[str, int]:
    if text is None and fiscal_year is None:
        return {}
    if text is None or fiscal_year is None:
        raise click.UsageError("--year dan --allocation dipakai bersama / --year and "
                               "--allocation go together")
    if agency.kind == "ministry":
        raise click.UsageError("alokasi APBD hanya untuk pemerintah daerah / an APBD "
                               "allocation is only for a regional government")
    try:
        return parse_allocation(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allocation") from exc


# -- database and keys ------------------------------------------------------------------------
@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema.

    After revision 0006 it re-keys the stored record digests, which needs the data and index
    keys (JAMSOS_DATA_KEYS, JAMSOS_INDEX_KEY or the key file); it resumes if interrupted.
    """
    from gateway.store import db

    gw = gateway()
    db.upgrade(gw.engine)

    def progress(done: int) -> None:
        if done % 100_000 == 0:  # batches of 2,000 rows: a line every 50 batches
            click.echo(f"  {done:,} record digests re-keyed", err=True)

    # Migration 0006 leaves the stored record digests to be re-keyed, which needs the keys.
    rekeyed = gw.rekey_record_hashes(progress=progress)
    if rekeyed.rows:
        click.echo(f"Re-keyed {rekeyed.rows:,} record digests (migration 0006).")
    if rekeyed.unmatched:
        click.echo(
            f"  {rekeyed.unmatched:,} of them did not match the stored name and facts (another "
            "agency spelt the name differently, or the data was changed by hand): each of those "
            "enrollments is recorded as changed once, the next time its agency sends it."
        )
    click.echo(
        f"Database at revision {db.current_revision(gw.engine)}: "
        f"{gw.engine.url.render_as_string(hide_password=True)}"
    )


@main.group()
def keys() -> None:
    """Encryption keys for NIK and name."""


@keys.command("generate")
@click.option("--key-id", default=None, help="Id of the new data key (default: random).")
@click.option(
    "--receipt-key",
    "receipt_key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a new Ed25519 receipt signing key (PEM, mode 0600) to this file and "
    "print JAMSOS_RECEIPT_KEY referring to it. Refuses an existing file.",
)
def keys_generate(key_id: str | None, receipt_key: Path | None) -> None:
    """Print fresh keys as environment variables for production.

    On a rotation, take only the new JAMSOS_DATA_KEYS entry: the index key never changes
    (see docs/security.md)."""
    from gateway.security.receipts import write_private_key

    for name, value in generate_keyring(key_id).to_env().items():
        click.echo(f"{name}={value}")
    if receipt_key is not None:
        try:
            write_private_key(receipt_key)
        except FileExistsError as exc:
            raise click.BadParameter(
                f"{receipt_key} sudah ada / already exists: a receipt key is never overwritten "
                "(receipts it signed would no longer verify)",
                param_hint="--receipt-key",
            ) from exc
        click.echo(f"JAMSOS_RECEIPT_KEY=$file:{receipt_key.resolve()}")


keys.add_command(keys_rotate)
keys.add_command(keys_status)


@main.group()
def apikeys() -> None:
    """API keys of submitting agencies."""


@apikeys.command("create")
@click.option("--agency", "agency_code", required=True, help="The agency the key may act for.")
@click.option("--label", default=None, help="Who holds it (e.g. 'BKPSDM Muaro Jambi').")
@with_appcontext
def apikeys_create(agency_code: str, label: str | None) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    agency = agency_of(agency_code)
    token = gateway().registry.create_api_key(agency.code, label)
    click.echo(token)
    click.echo(
        f"Kunci untuk {agency.name} ({agency.code}). Simpan sekarang: tidak akan "
        "ditampilkan lagi. / Store it now: it will not be shown again.",
        err=True,
    )


# -- serving and demo -------------------------------------------------------------------------
@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", "nworkers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Gunicorn workers.")
@with_appcontext
def serve(host: str, port: int, nworkers: int) -> None:
    """Serve the gateway with gunicorn."""
    gateway().ensure_ready()  # migrate and check keys once, before the workers fork
    click.echo(f"Jamsos Gateway di / at http://{host}:{port}")
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(nworkers),
        "--access-logfile",
        "-",
        "gateway.app:create_app()",
    ]
    os.execv(sys.executable, args)


@main.group()
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
        try:
            report = submit_roster(
                gw.registry, path, agency=agency, today=clock.today(), trigger="demo"
            )
        except RunFailed as exc:
            report = exc.report
        click.echo(
            f"{agency.name:<40} {report.accepted:>5} diterima / accepted, "
            f"{report.rejected:>3} ditolak / rejected  (run {report.run_id}"
            f"{', sudah ada / already loaded' if report.replayed else ''})"
        )
    sync_demo_sources(gw)  # the plugins' demo feeds: a SOAP service, drop folders, SIPD
    click.echo(_demo_credentials(gw, folder))


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


# -- plugins and sources (gateway/cli/plugins.py) -----------------------------------------------
main.add_command(plugins_group)
main.add_command(sources_command)
main.add_command(sync_command)
main.add_command(plugin_group)
register_plugin_commands(main)
