"""`jamsos plugins list`, `jamsos sources`, `jamsos sync SOURCE`, `jamsos plugin new NAME`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway import clock
from gateway.app import gateway
from gateway.cli.output import print_report, running_count


def _catalog() -> dict[str, Any]:
    return gateway().sources()


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
    catalog = _catalog()  # collecting sources may add errors: before reading them
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


@click.command("sources")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def sources_command(as_json: bool) -> None:
    """Each source with its agency, schedule, cursor and last run."""
    gw = gateway()
    catalog = _catalog()
    last = gw.registry.last_runs_by_source()
    rows = []
    for sid, entry in catalog.items():
        run = last.get(sid)
        rows.append(
            {
                "source": sid,
                "plugin": entry.plugin,
                "kind": entry.cls.kind,
                "agency": entry.agency,
                "title": entry.cls.title,
                "template": entry.is_template,
                # A template is never scheduled: its configured instances are.
                "schedule": None
                if entry.is_template
                else entry.settings.get("schedule") or entry.cls.schedule,
                "cursor": gw.registry.get_cursor(sid),
                "last_run": None
                if run is None
                else {
                    "id": run["id"],
                    "status": run["status"],
                    "finished_at": run["finished_at"].isoformat() if run["finished_at"] else None,
                    "error": run["error"],
                },
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("Belum ada sumber: pasang plugin. / No sources: install a plugin.")
        return
    click.echo(
        f"{'SOURCE':<24} {'AGENCY':<10} {'KIND':<7} {'SCHEDULE':<12} {'CURSOR':<25} LAST RUN"
    )
    for r in rows:
        run = r["last_run"]
        last_text = "-"
        if run is not None:
            last_text = f"#{run['id']} {run['status']} {(run['finished_at'] or '')[:19]}"
        if r["template"]:
            last_text = "templat / template: [sources.<id>] type, agency (config/sources.toml)"
        cursor = r["cursor"] or "-"  # a service's time stamp or the last file's name
        if len(cursor) > 25:
            cursor = cursor[:24] + "…"
        click.echo(
            f"{r['source']:<24} {r['agency'] or '-':<10} {r['kind']:<7} "
            f"{r['schedule'] or '-':<12} {cursor:<25} {last_text}"
        )


@click.command("sync")
@click.argument("source_id")
@click.option("--full", is_flag=True, help="Ignore the saved cursor: fetch everything.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def sync_command(source_id: str, full: bool, as_json: bool) -> None:
    """Run one source now. Exit status 1 when the run failed or was rejected."""
    from gateway.roster.sync import sync_source

    gw = gateway()
    catalog = _catalog()
    if source_id not in catalog:
        known = ", ".join(catalog) or "-"
        raise click.BadParameter(
            f"sumber tidak dikenal / unknown source {source_id!r}; known: {known}",
            param_hint="SOURCE",
        )
    if catalog[source_id].is_template:  # it would record a failed run of agency "-"
        raise click.BadParameter(
            f"{source_id} adalah templat tanpa instansi: tambahkan [sources.<id>] dengan "
            f'type = "{source_id}" dan agency = "<kode>" di config/sources.toml / {source_id} '
            "is a template with no agency: configure an instance in config/sources.toml "
            f'([sources.<id>] with type = "{source_id}" and agency = "<code>") and sync that',
            param_hint="SOURCE",
        )
    source = catalog[source_id].create()
    if not as_json:
        click.echo(f"Sinkronisasi / syncing {source_id} ({source.agency}) ...", err=True)

    count = running_count(lambda rows: f"  {rows:,} baris / rows".replace(",", "."))

    def progress(rows: int, _fraction: float | None) -> None:
        count(rows)

    result = sync_source(
        gw.registry,
        gw.plugins,
        source,
        today=clock.today(),
        trigger="cli",
        full=full,
        batch_size=gw.config["BATCH_SIZE"],
        progress=None if as_json else progress,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo("", err=True)
        if result.message:
            message_id, message_en = result.message
            click.echo(f"Tidak ada yang baru / nothing new: {message_id} / {message_en}")
        if result.report is not None:
            print_report(result.report)
        if result.stats:
            click.echo(f"  Pengambilan / fetch: {result.stats}")
        for warning in result.warnings:
            click.echo(click.style(f"  Peringatan / warning: {warning}", fg="yellow"))
    sys.exit(0 if result.status in ("succeeded", "nothing_new") else 1)


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
def plugin_new(name: str, kind: str, agency: str | None, directory: Path) -> None:
    """Scaffold plugin package NAME: source class, sample data, contract tests."""
    from gateway.sources.scaffold import ScaffoldError, scaffold

    try:
        target = scaffold(name, kind=kind, agency=agency, directory=directory)
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


def sync_demo_sources(gw: Any) -> None:
    """`jamsos demo load`: let each plugin prepare demo input (`prepare_demo`), then sync
    those sources, printing one line each. A plugin's failure is printed, never raised."""
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
