"""`jamsos apikeys`: the API keys submitting agencies sign their uploads with: create (with an
optional expiry), list, revoke, rotate. A change holds from the API's next request on."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta

import click
from flask.cli import with_appcontext

from gateway.cli.options import agency_of
from gateway.clock import WIB
from gateway.runtime import gateway
from gateway.store import apikeys as store

_SHOW_ONCE = ("Simpan sekarang: tidak akan ditampilkan lagi. / "
              "Store it now: it will not be shown again.")


@click.group()
def apikeys() -> None:
    """API keys of submitting agencies: create, list, revoke, rotate."""


def _expiry_options(command: click.Command) -> click.Command:
    command = click.option(
        "--expires", "expires_on", type=click.DateTime(["%Y-%m-%d"]), default=None,
        help="Last day the key works (YYYY-MM-DD, WIB); refused from the next day on.",
    )(command)
    return click.option(
        "--expires-in", "expires_in", type=click.IntRange(min=1), default=None,
        metavar="DAYS", help="The key stops working this many days from now.",
    )(command)


def _expires_at(expires_in: int | None, expires_on: datetime | None) -> datetime | None:
    if expires_in is not None and expires_on is not None:
        raise click.UsageError("--expires atau --expires-in, bukan keduanya / "
                               "--expires or --expires-in, not both")
    if expires_in is not None:
        return datetime.now(UTC) + timedelta(days=expires_in)
    if expires_on is not None:
        # Valid through the whole named day in WIB, the day the dashboard and clerks see.
        end = datetime.combine(expires_on.date() + timedelta(days=1), time(), tzinfo=WIB)
        if end <= datetime.now(UTC):
            raise click.BadParameter("tanggal sudah lewat / the date has passed",
                                     param_hint="--expires")
        return end.astimezone(UTC)
    return None


@apikeys.command("create")
@click.option("--agency", "agency_code", required=True, help="The agency the key may act for.")
@click.option("--label", default=None, help="Who holds it (e.g. 'BKPSDM Muaro Jambi').")
@_expiry_options
@with_appcontext
def apikeys_create(agency_code: str, label: str | None, expires_in: int | None,
                   expires_on: datetime | None) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    agency = agency_of(agency_code)
    expires_at = _expires_at(expires_in, expires_on)
    token = gateway().registry.create_api_key(agency.code, label, expires_at)
    click.echo(token)
    until = f" Berlaku s.d. / valid until {_wib(expires_at)}." if expires_at else ""
    click.echo(f"Kunci untuk {agency.name} ({agency.code}).{until} {_SHOW_ONCE}", err=True)


@apikeys.command("list")
@click.option("--agency", "agency_code", default=None, help="Only this agency's keys.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def apikeys_list(agency_code: str | None, as_json: bool) -> None:
    """List keys (prefix, agency, label, created, last used, expires, revoked, status); the
    secret is never stored, so never shown."""
    code = agency_of(agency_code).code if agency_code else None
    rows = store.list_keys(gateway().registry.engine, code)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Belum ada kunci. / No keys yet: jamsos apikeys create --agency CODE")
        return
    click.echo(f"{'PREFIX':<9} {'INSTANSI':<10} {'STATUS':<8} {'DIBUAT':<16} {'TERAKHIR':<16} "
               f"{'KEDALUWARSA':<16} {'DICABUT':<16} LABEL")
    for r in rows:
        click.echo(f"{r['prefix']:<9} {r['agency']:<10} {r['status']:<8} "
                   f"{_wib_text(r['created_at']):<16} {_wib_text(r['last_used_at']):<16} "
                   f"{_wib_text(r['expires_at']):<16} {_wib_text(r['revoked_at']):<16} "
                   f"{r['label'] or ''}")
    click.echo("Waktu dalam WIB. / Times in WIB.", err=True)


@apikeys.command("revoke")
@click.argument("prefix")
@with_appcontext
def apikeys_revoke(prefix: str) -> None:
    """Revoke a key by its prefix (the 8 characters after jgw_); refused from the next
    request on."""
    if not store.revoke(gateway().registry.engine, _prefix(prefix)):
        raise click.ClickException(f"tidak ada kunci aktif dengan prefiks ini / no live key "
                                   f"with this prefix: {prefix}")
    click.echo(f"Dicabut / revoked: {_prefix(prefix)}")


@apikeys.command("rotate")
@click.argument("prefix")
@click.option("--grace", default="0", show_default=True, metavar="DURATION",
              help="How long the old key keeps working, e.g. 30m, 24h, 7d (0: revoked now).")
@_expiry_options
@with_appcontext
def apikeys_rotate(prefix: str, grace: str, expires_in: int | None,
                   expires_on: datetime | None) -> None:
    """Give a key a successor (same agency and label): the new secret is printed once, the
    old key is revoked now or after --grace."""
    rotated = store.rotate(gateway().registry.engine, _prefix(prefix), grace=_duration(grace),
                           expires_at=_expires_at(expires_in, expires_on))
    if rotated is None:
        raise click.ClickException(f"tidak ada kunci aktif dengan prefiks ini / no live key "
                                   f"with this prefix: {prefix}")
    click.echo(rotated.token)
    click.echo(f"Kunci baru / new key {rotated.prefix}; kunci lama / old key "
               f"{rotated.old_prefix} berlaku s.d. / valid until "
               f"{_wib(rotated.old_valid_until)}. {_SHOW_ONCE}", err=True)


def _prefix(text: str) -> str:
    """The prefix as listed; a whole token or `jgw_<prefix>` pasted by mistake works too."""
    text = text.strip()
    if text.startswith(store.API_KEY_PREFIX):
        text = text[len(store.API_KEY_PREFIX):].split("_", 1)[0]
    return text


_DURATION = re.compile(r"^\s*(\d+)\s*([mhd]?)\s*$")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter("mis. / e.g. 30m, 24h, 7d", param_hint="--grace")
    minutes = int(match[1]) * {"m": 1, "h": 60, "d": 1440}[match[2] or "h"]
    if minutes > 90 * 1440:  # a grace period is for switching over, not a second key
        raise click.BadParameter("paling lama 90 hari / at most 90 days", param_hint="--grace")
    return timedelta(minutes=minutes)


def _wib(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def _wib_text(iso: str | None) -> str:
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(WIB).strftime("%Y-%m-%d %H:%M")

