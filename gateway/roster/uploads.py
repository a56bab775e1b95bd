"""Uploaded rosters kept on disk encrypted, in the instance folder (issue 16, finding 4).

An upload is saved before it is read (the reader needs to seek, a large one is applied in the
background after the request ends: gateway/roster/queue.py). It used to go to the system temp
folder in plain text (`roster-*`, every NIK and name), where a SIGKILL left it for good. Now:

* It is written to `<instance>/uploads/` (created 0700), sealed with AES-256-GCM in 1 MiB
  blocks under a key that exists only in this process, as the SOAP spool is
  (gateway/sources/spool.py): the plaintext never touches the disk, and a spool whose process
  died cannot be read by anyone. Each block's nonce is random and its index is its
  associated data, so blocks cannot be reordered; `open()` gives a seekable plaintext view
  (XLSX is a zip file, read from its end).
* Its owner holds an exclusive `flock` on it while it lives. `sweep` (run by `jamsos serve`
  at start-up and before each new upload) removes the spools whose owner is gone (the lock is
  free: a lock dies with its process) and fails the run each was for, still `running`, with
  "interrupted": the upload cannot be resumed (its key died too) and must be sent again.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

BLOCK = 1 << 20  # plaintext bytes per sealed block
_NONCE = 12
_TAG = 16
_SEALED = _NONCE + BLOCK + _TAG
_INDEX = struct.Struct(">Q")
FOLDER = "uploads"
_NAME = re.compile(r"^upload-(\d+)-(?:run(\d+)|new)-[0-9a-f]{8}\.spool$")


class Upload(Protocol):
    """An uploaded file as Flask gives it (werkzeug's FileStorage)."""

    filename: str | None

    def save(self, dst: BinaryIO) -> None: ...


def upload_folder(instance: str | Path) -> Path:
    """`<instance>/uploads`, private to the gateway's user."""
    folder = Path(instance) / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)  # an older folder, or a umask that widened mkdir's mode
    return folder


class _Sealer:
    """What `Upload.save` writes into: plaintext in, sealed blocks out, SHA-256 on the way."""

    def __init__(self, fh: BinaryIO, aead: AESGCM) -> None:
        self._fh, self._aead = fh, aead
        self._buf = bytearray()
        self._index = 0
        self.size = 0
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self._buf += data
        while len(self._buf) >= BLOCK:
            self._seal(bytes(self._buf[:BLOCK]))
            del self._buf[:BLOCK]
        return len(data)

    def _seal(self, plain: bytes) -> None:
        nonce = os.urandom(_NONCE)
        self._fh.write(nonce + self._aead.encrypt(nonce, plain, _INDEX.pack(self._index)))
        self._index += 1

    def close(self) -> None:
        if self._buf:
            self._seal(bytes(self._buf))
            self._buf.clear()
        self._fh.flush()


class _Opened(io.RawIOBase):
    """The plaintext of a spool, block by block, seekable."""

    def __init__(self, path: Path, aead: AESGCM, size: int) -> None:
        self._fh = open(path, "rb")  # noqa: SIM115 (closed with this object)
        self._aead, self._size, self._pos = aead, size, 0
        self._block: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _plain(self, index: int) -> bytes:
        if self._block is None or self._block[0] != index:
            self._fh.seek(index * _SEALED)
            sealed = self._fh.read(_SEALED)
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _INDEX.pack(index))
            self._block = (index, plain)
        return self._block[1]

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size:
            return 0
        index, offset = divmod(self._pos, BLOCK)
        chunk = self._plain(index)[offset : offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)

    def close(self) -> None:
        self._fh.close()
        super().close()


class SpooledUpload:
    """One upload, sealed on disk, locked by its owner until `discard`."""

    def __init__(self, folder: Path, upload: Upload) -> None:
        if not upload.filename:
            raise ValueError("an upload needs a file name")
        self.name = upload.filename
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.path = folder / f"upload-{os.getpid()}-new-{os.urandom(4).hex()}.spool"
        # Locked under a name `sweep` does not look at, then given its name: a sweep never
        # sees it unlocked.
        hidden = folder / f".{self.path.name}.tmp"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._fh = os.fdopen(fd, "wb")
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)  # held until discard (or death)
        os.rename(hidden, self.path)
        try:
            sealer = _Sealer(self._fh, self._aead)
            upload.save(sealer)  # type: ignore[arg-type]
            sealer.close()
        except BaseException:
            self.handed_off = False
            self.discard()
            raise
        self.size = sealer.size
        self.sha256 = sealer.sha.hexdigest()
        # Set by the request that hands the spool to the background apply, which discards it.
        self.handed_off = False

    def for_run(self, run_id: int) -> None:
        """Name the run this spool is for, so a sweep after a crash can fail that run."""
        named = self.path.with_name(self.path.name.replace("-new-", f"-run{run_id}-"))
        os.rename(self.path, named)
        self.path = named

    def open(self) -> BinaryIO:
        return io.BufferedReader(_Opened(self.path, self._aead, self.size), BLOCK)  # type: ignore[return-value]

    def discard(self) -> None:
        """Remove the spool (idempotent): after its run, or when the request is refused."""
        if self.handed_off:
            return
        self.path.unlink(missing_ok=True)
        if not self._fh.closed:
            self._fh.close()  # releases the lock


def sweep(folder: Path, fail_run: Callable[[int], None]) -> int:
    """Remove the spools whose owner process is gone, failing the run each was for with
    `fail_run(run_id)`. Live spools (their owner holds the lock) are left alone, also those
    of another gunicorn worker. Returns how many were removed."""
    removed = 0
    for path in [*folder.glob("upload-*.spool"), *folder.glob(".upload-*.spool.tmp")]:
        try:
            fh = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            continue  # its owner finished meanwhile
        with fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # alive
            path.unlink(missing_ok=True)
            removed += 1
        found = _NAME.match(path.name)
        if found and found[2]:
            forget_progress(folder, int(found[2]))
            fail_run(int(found[2]))
    return removed


def _progress_path(folder: Path, run_id: int) -> Path:
    return folder / f"run{run_id}.progress"


def progress_writer(folder: Path, run_id: int) -> Callable[[int, float | None], None]:
    """A run's progress (rows done, fraction read) for the dashboard to poll, in a small file
    beside the spools, so whichever gunicorn worker answers the poll reads it. At most once
    a second; counts only, no PII."""
    path = _progress_path(folder, run_id)
    last = 0.0

    def write(rows: int, fraction: float | None) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < 1.0:
            return
        last = now
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": rows, "fraction": fraction}))
        os.replace(tmp, path)

    return write


def read_progress(folder: Path, run_id: int) -> dict[str, Any]:
    try:
        return json.loads(_progress_path(folder, run_id).read_text())
    except (OSError, ValueError):
        return {"rows": 0, "fraction": None}


def forget_progress(folder: Path, run_id: int) -> None:
    _progress_path(folder, run_id).unlink(missing_ok=True)
