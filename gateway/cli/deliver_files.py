"""`jamsos deliver batches|download|uploaded|answers`: the upload files of a file destination
(SIPP Online) from the command line (docs/delivery-sipp.md). `jamsos deliver bpjs-sipp`
prepares them; these commands are the staff's side: take the files, say they were uploaded,
bring BPJS's answer file back."""

from __future__ import annotations

import getpass
import json
import os
import shutil
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from gateway.cli.deliver import deliver_group
from gateway.runtime import gateway

_STATES = ("writing", "prepared", "uploaded", "answered")
_STATE_WORDS = {
    "writing": "belum lengkap / incomplete",
    "prepared": "siap diunduh / ready to download",
    "uploaded": "sudah diunggah / uploaded",
    "answered": "sudah dijawab / answered",
}


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _batch(batch_id: int) -> dict[str, Any]:
    from gateway.delivery.batches import UnknownBatch, get

    try:
        return get(gateway().engine, batch_id)
    except UnknownBatch as exc:
        raise click.ClickException(str(exc)) from exc


@deliver_group.command("batches")
@click.option("--destination", default=None, help="Only this file destination, e.g. bpjs-sipp.")
@click.option("--state", type=click.Choice(_STATES), default=None, help="Only batches in it.")
@click.option("--agency", default=None, help="Only this agency's employers.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def batches_command(destination: str | None, state: str | None, agency: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """List the upload-file batches (newest first): employer, month, state, files."""
    from gateway.cli.options import agency_of
    from gateway.store.delivery_batches import list_batches

    code = agency_of(agency).code if agency else None
    rows = list_batches(gateway().engine, destination=destination, state=state, agency=code)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("Belum ada batch berkas. Siapkan dengan `jamsos deliver bpjs-sipp`. / "
                   "No file batches yet. Prepare them with `jamsos deliver bpjs-sipp`.")
        return
    for b in rows:
        division = f"/{b['division']}" if b["division"] else ""
        states = ", ".join(f"{k} {v}" for k, v in sorted(b["states"].items()))
        click.echo(f"#{b['id']:<6} {b['agency']:<8} NPP {b['npp']}{division:<5} {b['month']}  "
                   f"{_STATE_WORDS[b['state']]}  ({b['mutations']} mutasi: {states})")  # fmt: skip
        for f in b["files"]:
            if f.get("kind") == "answers":
                click.echo(f"         jawaban / answers {f['original']}: diterima {f['accepted']}"
                           f", ditolak {f['rejected']}, menunggu {f['waiting']} ({f['by']})")
            else:
                click.echo(f"         {f['name']}  (revisi {f['revision']})")
        if b["uploaded_at"]:
            click.echo(f"         diunggah / uploaded {b['uploaded_at']:%Y-%m-%d %H:%M} UTC "
                       f"oleh / by {b['uploaded_by']}")  # fmt: skip


@deliver_group.command("download")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Folder to copy the files into (made if missing).")
@click.option("--force", is_flag=True, help="Replace files of the same name in the folder.")
@with_appcontext
def download_command(batch_id: int, folder: Path, force: bool) -> None:
    """Copy a batch's upload files (.xlsx) into a folder, for uploading to SIPP Online.

    The files hold NIKs and names in clear: they are written readable by you only (0600);
    delete them once uploaded."""
    from gateway.delivery.batches import BatchStateError, batch_files

    _batch(batch_id)
    try:
        files = batch_files(gateway(), batch_id)
    except BatchStateError as exc:
        raise click.ClickException(str(exc)) from exc
    folder.mkdir(parents=True, exist_ok=True)
    clash = [p.name for p in files if (folder / p.name).exists()]
    if clash and not force:
        raise click.ClickException(
            f"Sudah ada di {folder}: {', '.join(clash)} (pakai --force untuk menimpa) / "
            f"already in {folder}: {', '.join(clash)} (use --force to replace)")
    for path in files:
        target = folder / path.name
        target.unlink(missing_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out)
        click.echo(str(target))


@deliver_group.command("uploaded")
@click.argument("batch_id", metavar="BATCH", type=int)
@with_appcontext
def uploaded_command(batch_id: int) -> None:
    """Record that BATCH's files were uploaded to SIPP Online: its mutations become sent
    (terkirim), with who and when. Twice is harmless."""
    from gateway.delivery.batches import BatchStateError, mark_uploaded

    _batch(batch_id)
    try:
        changed, batch = mark_uploaded(gateway(), batch_id, actor=_actor())
    except BatchStateError as exc:
        raise click.ClickException(str(exc)) from exc
    when = f"{batch['uploaded_at']:%Y-%m-%d %H:%M} UTC" if batch["uploaded_at"] else "-"
    if changed:
        click.echo(f"Batch #{batch_id} ditandai sudah diunggah; {batch['mutations']} mutasi "
                   f"terkirim. / Batch #{batch_id} marked uploaded; {batch['mutations']} "
                   "mutations sent.")  # fmt: skip
    else:
        click.echo(f"Batch #{batch_id} sudah ditandai diunggah ({when}, {batch['uploaded_by']});"
                   f" tidak ada yang diubah. / Batch #{batch_id} was already marked uploaded "
                   f"({when}, {batch['uploaded_by']}); nothing changed.")  # fmt: skip


@deliver_group.command("answers")
@click.argument("batch_id", metavar="BATCH", type=int)
@click.argument("answer_file", metavar="FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def answers_command(batch_id: int, answer_file: Path, as_json: bool) -> None:
    """Import BPJS's answer file (.xlsx or .csv: NIK, KPJ or the rejection reason) for
    BATCH. All or nothing: a file with any bad line changes nothing and every bad line is
    listed (exit status 1). The same file imported again is recognised."""
    from gateway.delivery.base import AnswerFileError
    from gateway.delivery.batches import BatchStateError, import_answers
    from gateway.delivery.catalog import load_destination_settings, make_destination

    gw = gateway()
    batch = _batch(batch_id)
    dest = make_destination(gw.plugins, batch["destination"], load_destination_settings(gw.config))
    try:
        done = import_answers(gw, dest, batch_id, answer_file, actor=_actor())
    except BatchStateError as exc:
        raise click.ClickException(str(exc)) from exc
    except AnswerFileError as exc:
        if as_json:
            click.echo(json.dumps({"error": str(exc),
                                   "problems": [p.as_dict() for p in exc.problems]}, indent=2))
        else:
            click.echo(str(exc), err=True)
            for p in exc.problems:
                click.echo(f"  baris / line {p.row}: {p.message_id} / {p.message_en}", err=True)
        raise SystemExit(1) from exc
    if as_json:
        click.echo(json.dumps(done.__dict__, indent=2))
        return
    if not done.applied:
        click.echo(f"Berkas ini sudah diimpor ({done.imported_at}); tidak ada yang diubah. / "
                   f"This file was imported before ({done.imported_at}); nothing changed.")
        return
    click.echo(f"Jawaban batch #{batch_id}: diterima {done.accepted}, ditolak {done.rejected}, "
               f"menunggu jawaban {done.waiting}. / Answers for batch #{batch_id}: accepted "
               f"{done.accepted}, rejected {done.rejected}, awaiting an answer {done.waiting}.")
    if done.rejected:
        click.echo("Alasan penolakan / rejection reasons: jamsos deliver mutations --state "
                   "rejected")
