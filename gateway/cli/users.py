"""`jamsos users`: the staff who log in to the dashboard, nationally or bound to one agency."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway
from gateway.store.users import (
    ROLES,
    UserError,
    create_user,
    list_users,
    set_agency,
    set_disabled,
    unlock,
)


@click.group("users")
def users_group() -> None:
    """Dashboard users (compliance staff, regional viewers): create, list, scope, unlock,
    disable, enable."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="viewer: reads every agency (or only --agency's), PII masked. operator: "
                   "national, the same pages today "
                   "(syncs are triggered with `jamsos sync` or Airflow); kept for the "
                   "dashboard's operations to come.")
@click.option("--name", "display_name", default=None, help="Name shown in the dashboard.")
@click.option("--agency", default=None, metavar="CODE",
              help="Bind the user to one agency (a ministry code such as kemenkes, or a "
                   "government's region code: 15 Provinsi Jambi, 15.05 Kabupaten Muaro "
                   "Jambi): it sees only that agency's pages. Without it: every agency.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (scripts) instead of a prompt.")
@with_appcontext
def users_create(username: str, role: str, display_name: str | None, agency: str | None,
                 password_stdin: bool) -> None:
    """Create a dashboard user; the password is asked twice and stored only hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Kata sandi / password", hide_input=True,
                                confirmation_prompt=True)
    try:
        user = create_user(gateway().registry.engine, username, password, role=role,
                           display_name=display_name, agency=agency)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Pengguna dibuat / user created: {user.username} ({user.role}, "
               f"{_scope_text(user.agency)})")


def _scope_text(agency: str | None) -> str:
    return agency or "nasional/national"


@users_group.command("scope")
@click.argument("username")
@click.option("--agency", default=None, metavar="CODE",
              help="The one agency the user may read (ministry or region code).")
@click.option("--national", is_flag=True, help="Every agency (compliance staff).")
@with_appcontext
def users_scope(username: str, agency: str | None, national: bool) -> None:
    """Bind a user to one agency, or give it the national view; effective at its next page."""
    if national == (agency is not None):
        raise click.UsageError("pilih salah satu / give exactly one of: --agency CODE, --national")
    try:
        user = set_agency(gateway().registry.engine, username, None if national else agency)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    if user is None:
        raise click.ClickException(f"pengguna tidak ada / no such user: {username}")
    click.echo(f"Cakupan / scope: {user.username} -> {_scope_text(user.agency)}")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List dashboard users (never their passwords)."""
    rows = list_users(gateway().registry.engine)
    if not rows:
        click.echo("Belum ada pengguna. / No users yet: jamsos users create NAME")
        return
    for r in rows:
        state = "disabled" if r["disabled_at"] else "locked" if r["locked_until"] else "active"
        last = r["last_login_at"].isoformat()[:16] if r["last_login_at"] else "-"
        click.echo(f"{r['username']:<24} {r['role']:<9} {_scope_text(r['agency']):<17} "
                   f"{state:<9} {last}  {r['display_name'] or ''}")


@users_group.command("unlock")
@click.argument("username")
@with_appcontext
def users_unlock(username: str) -> None:
    """Lift a lock-out after repeated failed logins."""
    if not unlock(gateway().registry.engine, username):
        raise click.ClickException(f"pengguna tidak ada / no such user: {username}")
    click.echo(f"Dibuka / unlocked: {username}")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable a user (a leaver): they cannot log in, and their open sessions end."""
    if not set_disabled(gateway().registry.engine, username, True):
        raise click.ClickException(f"pengguna tidak ada / no such user: {username}")
    click.echo(f"Dinonaktifkan / disabled: {username}")


@users_group.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Enable a disabled user again."""
    if not set_disabled(gateway().registry.engine, username, False):
        raise click.ClickException(f"pengguna tidak ada / no such user: {username}")
    click.echo(f"Diaktifkan / enabled: {username}")

