"""The SIPP upload files on the dashboard (docs/delivery-sipp.md): per employer and month the
batches `jamsos deliver bpjs-sipp` prepared, their workbooks to download, a "sudah diunggah /
mark uploaded" button and the upload of BPJS's answer file.

The workbooks hold NIKs and names in clear, which no dashboard role reads elsewhere (the
pages mask them): downloading, marking and importing are for operators only. Other users
see the batches and their states, within their scope (web/auth.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for

from gateway.delivery.base import AnswerFileError
from gateway.delivery.batches import (
    BatchStateError,
    UnknownBatch,
    batch_files,
    get,
    import_answers,
    mark_uploaded,
)
from gateway.delivery.catalog import load_destination_settings, make_destination
from gateway.runtime import gateway
from gateway.store.delivery_batches import list_batches
from gateway.web.auth import current_user, login_required, readable_or_404, scope
from gateway.web.blueprint import bp
from gateway.web.i18n import tr

ANSWER_SUFFIXES = (".xlsx", ".csv")


def _operator() -> bool:
    user = current_user()
    return user is not None and user.role == "operator"


def _batch_or_404(batch_id: int) -> dict[str, Any]:
    try:
        batch = get(gateway().registry.engine, batch_id)
    except UnknownBatch:
        abort(404)
    readable_or_404(batch["agency"])
    return batch


def _actor() -> str:
    user = current_user()
    return f"user:{user.username}" if user is not None else "web"


def _page(status: int = 200, **context: Any) -> Any:
    state = request.args.get("state") or None
    rows = list_batches(gateway().registry.engine, agency=scope(),
                        state=state if state in ("prepared", "uploaded", "answered") else None)
    return render_template("delivery_files.html", batches=rows, operator=_operator(),
                           state=state, **context), status  # fmt: skip


@bp.get("/delivery/files")
@login_required
def delivery_files() -> Any:
    marked = request.args.get("marked", type=int)
    return _page(marked=marked, again=request.args.get("again") == "1")


@bp.get("/delivery/files/<int:batch_id>/<path:name>")
@login_required
def delivery_file(batch_id: int, name: str) -> Any:
    _batch_or_404(batch_id)
    if not _operator():
        abort(403)
    try:
        files = {p.name: p for p in batch_files(gateway(), batch_id)}
    except BatchStateError as exc:
        return _page(409, error=str(exc))
    if name not in files:  # only the batch's own files, by the names it recorded
        abort(404)
    return send_file(files[name], as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument."
                              "spreadsheetml.sheet")  # fmt: skip


@bp.post("/delivery/files/<int:batch_id>/uploaded")
@login_required
def delivery_files_uploaded(batch_id: int) -> Any:
    _batch_or_404(batch_id)
    if not _operator():
        abort(403)
    try:
        changed, _ = mark_uploaded(gateway(), batch_id, actor=_actor())
    except BatchStateError as exc:
        return _page(409, error=str(exc))
    return redirect(url_for("web.delivery_files", marked=batch_id, again=None if changed else 1))


@bp.post("/delivery/files/<int:batch_id>/answers")
@login_required
def delivery_files_answers(batch_id: int) -> Any:
    batch = _batch_or_404(batch_id)
    if not _operator():
        abort(403)
    upload = request.files.get("answers")
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    if upload is None or not upload.filename or suffix not in ANSWER_SUFFIXES:
        return _page(400, error=tr("Pilih berkas jawaban BPJS (.xlsx atau .csv).",
                                   "Choose BPJS's answer file (.xlsx or .csv)."))
    gw = gateway()
    dest = make_destination(gw.plugins, batch["destination"], load_destination_settings(gw.config))
    with tempfile.TemporaryDirectory(dir=gw.config["INSTANCE_PATH"]) as tmp:
        path = Path(tmp) / f"answers{suffix}"
        upload.save(path)
        try:
            done = import_answers(gw, dest, batch_id, path, actor=_actor(),
                                  filename=upload.filename)  # fmt: skip
        except BatchStateError as exc:
            return _page(409, error=str(exc))
        except AnswerFileError as exc:
            return _page(422, error=str(exc), problems=exc.problems, problem_batch=batch_id)
    return _page(answered=done)
