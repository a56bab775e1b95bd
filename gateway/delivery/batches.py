"""A file destination's batches (docs/delivery-sipp.md): the files staff upload by hand to
SIPP Online and the answer file BPJS gives back.

    prepare ──► download ──► mark uploaded ──► import answers
    (writing,     (staff)      (mutations        (accepted with KPJ / rejected with a
     prepared)                  sent)             reason; all or nothing)

`jamsos deliver bpjs-sipp` (the outbox, under each employer's delivery lock) derives the
mutations and calls `prepare_batches`. One batch per employer and reporting month at a time:
until staff mark it uploaded it stays open, and preparing again adds the month's new pending
mutations, lets superseded ones go and writes its files again (a new revision; files
downloaded before must not be uploaded, and marking the batch uploaded is refused while it
holds a superseded mutation). Once uploaded it is closed; later mutations go into the next
batch. A mutation is only ever in one batch (store/delivery_batches.py takes it only while
it has none).

NIK and name are decrypted only to write the files and to match the answer file, in memory;
the database holds neither in clear, and the files live in the instance folder, private to
the gateway's user (security/private_files.py).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.delivery.base import Ack, Destination, OutgoingMutation
from gateway.delivery.employers import EmployerRule
from gateway.delivery.outbox import outgoing
from gateway.security.private_files import private_folder
from gateway.store import delivery_batches as store
from gateway.store.delivery_batches import BatchStateError
from gateway.store.employers import get_employer

__all__ = [
    "Answered",
    "BatchStateError",
    "Prepared",
    "UnknownBatch",
    "batch_files",
    "import_answers",
    "mark_uploaded",
    "prepare_batches",
]


class UnknownBatch(LookupError):
    """No batch by that number (for that destination)."""


@dataclass
class Prepared:
    batch_id: int
    employer_id: int
    month: str
    mutations: int
    files: list[dict] = field(default_factory=list)
    created: bool = True


@dataclass
class Answered:
    batch_id: int
    applied: bool  # False: this very file was imported before; nothing applied again
    accepted: int
    rejected: int
    waiting: int  # the batch's mutations still without an answer
    imported_at: str


def batch_folder(instance: Path, destination_id: str, batch_id: int) -> Path:
    return Path(instance) / "delivery" / destination_id / f"batch-{batch_id}"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _instance(gw: Any) -> Path:
    return Path(gw.config["INSTANCE_PATH"])


def _rule(gw: Any, employer_id: int) -> EmployerRule:
    row = get_employer(gw.engine, employer_id)
    if row is None:
        raise UnknownBatch(f"Pemberi kerja {employer_id} tidak ada / no employer {employer_id}")
    return EmployerRule(**row)


def _outgoing(gw: Any, rows: list[dict], rule: EmployerRule) -> list[OutgoingMutation]:
    """The batch's mutations as the destination is given them (identity decrypted now, in
    memory only: the outbox's own `outgoing`)."""
    return [outgoing(gw, r, rule, r["known_kpj"]) for r in rows]


def prepare_batches(gw: Any, destination: Destination, rule: EmployerRule, *,
                    month: str | None = None, actor: str = "system",
                    now: datetime | None = None) -> list[Prepared]:  # fmt: skip
    """Write the files of one employer's months with work to do. A batch whose files cannot
    be written stays `writing` (nothing to download, cannot be marked uploaded) and is
    written by the next delivery; the error is raised, so the delivery records it."""
    if destination.channel != "file":
        raise ValueError(f"{destination.id} is not a file destination")
    done = []
    for group in store.open_groups(gw.engine, destination.id, month, employer_id=rule.id):
        result = _prepare_one(gw, destination, rule, group["month"], actor, _now(now))
        if result is not None:
            done.append(result)
    return done


def _prepare_one(gw: Any, destination: Destination, rule: EmployerRule, month: str,
                 actor: str, now: datetime) -> Prepared | None:  # fmt: skip
    engine = gw.engine
    batch_id, created = store.claim(engine, destination.id, rule.id, month, now)
    if batch_id is None:
        return None
    batch = get(engine, batch_id)
    revision = 1 + max((f.get("revision", 0) for f in batch["files"]), default=0)
    rows = store.batch_mutations(engine, batch_id)
    final = batch_folder(_instance(gw), destination.id, batch_id)
    private_folder(final.parent)
    # Written beside, then moved into place: a half-written set of files is never offered.
    work = Path(tempfile.mkdtemp(prefix=f".batch-{batch_id}-", dir=final.parent))
    try:
        written = destination.write_files(rule, month, _outgoing(gw, rows, rule), work)
        files = [_describe(Path(p), work, revision) for p in written]
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    store.record_files(engine, batch_id, files, actor=actor, now=now)
    return Prepared(batch_id, rule.id, month, len(rows), files, created)


def _describe(path: Path, work: Path, revision: int) -> dict:
    if path.parent != work:
        raise ValueError(f"write_files returned {path}, outside the folder it was given")
    path.chmod(0o600)  # NIKs and names in clear
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"name": path.name, "kind": "upload", "sha256": digest, "revision": revision,
            "bytes": path.stat().st_size}  # fmt: skip


def get(engine: Any, batch_id: int, destination_id: str | None = None) -> dict:
    batch = store.get_batch(engine, batch_id)
    if batch is None or (destination_id and batch["destination"] != destination_id):
        raise UnknownBatch(f"Batch {batch_id} tidak ada / no batch {batch_id}")
    return batch


def batch_files(gw: Any, batch_id: int) -> list[Path]:
    """The batch's workbooks, each checked against the SHA-256 recorded when it was written
    (a file changed or lost since is refused: deliver again to write it anew)."""
    batch = get(gw.engine, batch_id)
    if batch["state"] == "writing":
        raise BatchStateError(
            f"Berkas batch {batch_id} belum selesai ditulis: jalankan `jamsos deliver "
            f"{batch['destination']}` lagi. / The files of batch {batch_id} were not written "
            f"completely: run `jamsos deliver {batch['destination']}` again.")  # fmt: skip
    folder = batch_folder(_instance(gw), batch["destination"], batch_id)
    found = []
    for f in batch["files"]:
        if f.get("kind") != "upload":
            continue
        path = folder / f["name"]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            raise BatchStateError(
                f"Berkas {f['name']} hilang atau berubah sejak ditulis. / The file {f['name']} "
                "is missing or changed since it was written.")  # fmt: skip
        found.append(path)
    return found


def mark_uploaded(gw: Any, batch_id: int, *, actor: str,
                  now: datetime | None = None) -> tuple[bool, dict]:  # fmt: skip
    """Staff uploaded the files: the batch's mutations become sent. Twice is harmless:
    (False, the batch as it was marked)."""
    get(gw.engine, batch_id)
    return store.mark_uploaded(gw.engine, batch_id, actor=actor, now=_now(now))


def import_answers(gw: Any, destination: Destination, batch_id: int, path: Path, *,
                   actor: str, filename: str | None = None,
                   now: datetime | None = None) -> Answered:  # fmt: skip
    """Read BPJS's answer file for the batch and apply it, all or nothing
    (AnswerFileError naming every bad line). The same file imported again is recognised."""
    engine = gw.engine
    batch = get(engine, batch_id, destination.id)
    sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    for earlier in batch["files"]:
        if earlier.get("kind") == "answers" and earlier.get("sha256") == sha:
            return _answered(batch_id, False, earlier)
    if batch["state"] in store.OPEN:
        raise BatchStateError(
            "Batch ini belum ditandai sudah diunggah: tandai dulu, lalu impor jawabannya. / "
            "This batch is not marked uploaded yet: mark it, then import the answers.")
    rule = _rule(gw, batch["employer_id"])
    rows = [r for r in store.batch_mutations(engine, batch_id) if r["state"] != "superseded"]
    acks: list[Ack] = destination.read_answers(
        Path(path), mutations=_outgoing(gw, rows, rule))
    # The file itself is kept beside the workbooks (private), for whoever asks what BPJS said.
    folder = batch_folder(_instance(gw), destination.id, batch_id)
    private_folder(folder)
    suffix = Path(filename or path).suffix.lower()[:8]
    stored = folder / f"answers-{sha[:12]}{suffix}"
    if not stored.exists():
        shutil.copyfile(path, stored)
        stored.chmod(0o600)
    answer = {"name": stored.name, "original": Path(filename or path).name[:200], "sha256": sha}
    applied, entry = store.apply_answers(engine, batch_id, acks, answer, actor=actor,
                                         now=_now(now))  # fmt: skip
    return _answered(batch_id, applied, entry)


def _answered(batch_id: int, applied: bool, entry: dict) -> Answered:
    return Answered(batch_id, applied, entry.get("accepted", 0), entry.get("rejected", 0),
                    entry.get("waiting", 0), entry.get("imported_at", ""))  # fmt: skip
