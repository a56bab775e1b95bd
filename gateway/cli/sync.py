"""`jamsos sources` and `jamsos sync SOURCE`: the plugins' feeds, and running one now."""

from __future__ import annotations

import json
import signal
import sys

import click
from flask.cli import with_appcontext

from gateway import clock
from gateway.cli.options import registry_to_read
from gateway.cli.output import print_report, running_count
from gateway.roster.cancel import Stopped, stop_on_signals
from gateway.runtime import gateway


@click.command("sources")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def sources_command(as_json: bool) -> None:
    """Each source with its agency, schedule, cursor and last run."""
    gw = gateway()
    # No registry here: the sources alone, with a note; never a registry created.
    registry = registry_to_read(required=False)
    catalog = gw.sources()
    last = registry.last_runs_by_source() if registry is not None else {}
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
                "cursor": registry.get_cursor(sid) if registry is not None else None,
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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the result as JSON (its fields: docs/writing-a-plugin.md, \"jamsos sync --json\").",
)
@with_appcontext
def sync_command(source_id: str, full: bool, as_json: bool) -> None:
    """Run one source now. Exit status 1 when the run failed or was rejected; 143 when
    stopped by SIGTERM (the run rolled back and recorded failed with the cause)."""
    from gateway.roster.sync import sync_source

    gw = gateway()
    catalog = gw.sources()
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

    # SIGTERM (a scheduler giving up on the task, `kill`) rolls the run back and records it
    # failed with the cause before the process ends (gateway/roster/cancel.py).
    try:
        with stop_on_signals():
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
    except Stopped as stop:
        after = ("diterapkan sebelum berhenti / applied before it stopped" if stop.committed
                 else "tidak ada yang diterapkan / nothing was applied")
        click.echo(f"\n{stop}: {after}", err=True)
        sys.exit(128 + signal.Signals[stop.signame].value)
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
