"""`jamsos plugins list` and `jamsos plugin new NAME`: the installed agency plugins, a new
one scaffolded, and the commands plugins add to `jamsos` (`register_commands`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.runtime import gateway


@click.group("plugins")
def plugins_group() -> None:
    """Installed agency plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def plugins_list(as_json: bool) -> None:
    """Each plugin with its version, its sources and any load error."""
    gw = gateway()
    pm = gw.plugins
    catalog = gw.sources()  # collecting sources may add errors: before reading them
    names = [name for name, _ in pm.list_name_plugin()]
    names += [name for name in pm.load_errors if name not in names]
    rows = [
        {
            "plugin": name,
            "version": pm.versions.get(name),
            "loaded": pm.get_plugin(name) is not None,
            "sources": sorted(sid for sid, e in catalog.items() if e.plugin == name),
            "errors": pm.load_errors.get(name, []),
        }
        for name in names
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = "ok" if row["loaded"] and not row["errors"] else "GAGAL / FAILED"
        click.echo(
            f"{row['plugin']:<20} {row['version'] or '-':<10} {state:<15} "
            f"{', '.join(row['sources']) or '-'}"
        )
        for error in row["errors"]:
            click.echo(click.style(f"    {error}", fg="red"))


@click.group("plugin")
def plugin_group() -> None:
    """Write a new agency plugin."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["soap", "csv"]), required=True)
@click.option("--agency", default=None, help="Agency code it feeds (default: NAME).")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("plugins"),
    show_default=True,
    help="Where to create the package folder.",
)
@click.option(
    "--incremental/--snapshot",
    default=False,
    show_default=True,
    help="--incremental: the feed can send changes only (a SOAP service with 'changed since', "
    "a CSV of changed workers); later syncs then end nobody. --snapshot (default): every "
    "sync is complete and ends the workers it no longer lists.",
)
def plugin_new(
    name: str, kind: str, agency: str | None, directory: Path, incremental: bool
) -> None:
    """Scaffold plugin package NAME: source class, sample data, contract tests."""
    from gateway.sources.scaffold import ScaffoldError, scaffold

    try:
        target = scaffold(
            name, kind=kind, agency=agency, directory=directory, incremental=incremental
        )
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Plugin dibuat / created: {target}")
    click.echo(f"  pip install -e {target}")
    click.echo(f"  pytest {target / 'tests'}")


def register_plugin_commands(cli: click.Group, pm: Any = None) -> None:
    """Add the plugins' own commands (`register_commands`). A broken plugin is skipped: the
    command line must always start; `jamsos plugins list` shows the error."""
    from gateway.sources.loader import make_plugin_manager

    if pm is None:
        try:
            pm = make_plugin_manager()
        except Exception as exc:  # pragma: no cover - make_plugin_manager reports, not raises
            click.echo(f"plugins not loaded: {exc}", err=True)
            return
    for impl in pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(**{k: cli for k in impl.argnames})
        except Exception as exc:
            click.echo(
                f"plugin {impl.plugin_name}: register_commands gagal / failed: {exc}", err=True
            )
