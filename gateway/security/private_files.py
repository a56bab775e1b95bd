"""Secret files the gateway makes for itself on a new instance (the data key file, the receipt
signing key, the dashboard's session key), safe when several processes start at once; and the
private modes of the instance folder and the SQLite database (`private_folder`,
`private_file`), which hold birth dates, wages and positions in clear.

Each is written whole under a private name, then hard-linked into place: a link never replaces
a file, so one process's file wins and the others read it, complete. An O_EXCL create of the
file itself crashed every loser, or let one read a half-written file.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> bool:
    """Make `path` (and missing parents) owner-only (0700); narrow an existing folder that
    group or others can enter or read. True when an existing folder was narrowed."""
    if not path.exists():
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode passes through the umask only narrower
        return False
    return _narrow(path, FOLDER_MODE)


def private_file(path: Path, *, create: bool = False) -> bool:
    """Make `path` owner-only (0600): created empty with that mode when missing and `create`
    (an empty file is a new SQLite database; SQLite gives its -wal and -shm files the
    database file's mode), narrowed when it exists wider. True when it was narrowed."""
    if not path.exists():
        if create:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
            except FileExistsError:  # another process made it first: check its mode
                return _narrow(path, FILE_MODE)
        return False
    return _narrow(path, FILE_MODE)


def _narrow(path: Path, mode: int) -> bool:
    try:
        current = path.stat().st_mode & 0o777
    except FileNotFoundError:  # a -wal or -shm removed meanwhile (the last connection closed)
        return False
    if current & 0o077 == 0:
        return False
    os.chmod(path, current & mode)
    return True


def write_private(path: Path, data: bytes) -> None:
    """Create `path` (never replacing one) readable by its owner only, written and synced;
    FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def place_once(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` (mode 0600) unless it exists; False when another
    process's file was there first (read it with `read_complete`)."""
    if not path.parent.exists():
        private_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_private(tmp, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system (vfat, some network shares)
        try:
            write_private(path, data)
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    # The new name must survive a power cut once data depends on the secret in it.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return True


def read_complete(
    path: Path,
    parse: Callable[[bytes], T],
    partial: type[Exception] | tuple[type[Exception], ...],
    *,
    attempts: int = 50,
) -> T:
    """`parse` of the file's bytes. Complete once linked; where there are no links another
    process may still be writing it: a file `parse` calls `partial` (empty, cut short) is read
    again (up to ~1 s) before that error stands."""
    for attempt in range(attempts):
        try:
            return parse(path.read_bytes())
        except partial:
            if attempt == attempts - 1:
                raise
            time.sleep(0.02)
    raise AssertionError("unreachable")  # pragma: no cover
