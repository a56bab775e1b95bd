"""`jamsos users`: the compliance staff who log in to the dashboard."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway
from gateway.store.users import ROLES, UserError, create_user, list_users, set_disabled, unlock


@click.group("users")
def users_group() -> None:
    """Dashboard users (compliance staff): create, list, unlock, disable, enable."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="viewer: reads everything, PII masked. operator: the same pages today "
                   "(syncs are triggered with `jamsos sync` or Airflow); kept for the "
                   "dashboard's operations to come.")
@click.option("--name", "display_name", default=None, help="Name shown in the dashboard.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (scripts) instead of a prompt.")
@with_appcontext
def users_create(username: str, role: str, display_name: str | None,
                 password_stdin: bool) -> None:
    """Create a dashboard user; the password is asked twice and stored only hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Kata sandi / password", hide_input=True,
                                confirmation_prompt=True)
    try:
        user = create_user(gateway().registry.engine, username, password, role=role,
                           display_name=display_name)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Pengguna dibuat / user created: {user.username} ({user.role})")


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
        click.echo(f"{r['username']:<24} {r['role']:<9} {state:<9} {last}  "
                   f"{r['display_name'] or ''}")


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

