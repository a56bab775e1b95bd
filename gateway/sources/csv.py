"""The CSV/XLSX source kit: a file, the newest file of a drop folder, or an HTTP(S) URL.

All three end in the upload reader (`gateway.roster.read.reader.open_roster`), so a feed gets the
same encodings, totals-row handling and header matching as a file a clerk uploads.

* `path`: read where it lies.
* `folder` (+ `pattern`, default `*.csv,*.xlsx`): the newest matching file, processed once.
  The cursor is "<file name>@<sha256>": the same file is not applied twice, a replaced file
  with the same name is. The cursor moves only when the run succeeds, so a rejected file is
  retried (and rejected again) until a corrected one is dropped.
* `url`: downloaded to a temporary file inside the run (timeouts, retries on transport
  errors, a size limit) before anything is applied: a dropped download applies nothing. The
  run records the downloaded file's SHA-256 once it is in, so its receipt states it.
* A `status` flag (`gateway.sources.base.StatusFlag`) skips the rows of workers who left,
  before `transform()`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gateway.domain.records import Problem, RawRow
from gateway.roster.read.reader import RosterReader, open_roster
from gateway.sources.fetch import Fetch
from gateway.sources.transport import TransportFailure, make_session, with_retries

if TYPE_CHECKING:
    from gateway.sources.base import CsvSource


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class SourceReader:
    """A RosterReader seen through the source: `transform()` per row, the source's notices.

    Opens the input on enter (inside the run), so a download that fails is the run's failure.
    """

    def __init__(self, source: CsvSource, open_input: Callable[[], tuple[Path, str]]) -> None:
        self._source = source
        self._open_input = open_input
        self._reader: RosterReader | None = None
        self._cleanup: list[Callable[[], None]] = []
        self.columns: dict[str, str] = {}
        self.unknown_columns: list[str] = []

    def __enter__(self) -> SourceReader:
        try:
            path, name = self._open_input()
            if path.name.startswith("jamsos-download-"):
                self._cleanup.append(lambda: path.unlink(missing_ok=True))
            src = self._source
            self._reader = open_roster(
                path, filename=name, aliases=src.aliases, required=src.required
            )
        except BaseException:
            self.close()
            raise
        self.columns = dict(self._reader.columns)
        self.unknown_columns = list(self._reader.unknown_columns)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        while self._cleanup:
            self._cleanup.pop()()

    def __iter__(self) -> Iterator[RawRow]:
        assert self._reader is not None, "enter the reader first"
        source = self._source
        transform = source.transform
        mode = "snapshot" if source.snapshot else "incremental"
        for raw in self._reader:
            if source.status is not None and source.has_left(raw.values, raw.row, mode=mode):
                continue
            out = transform(raw)
            if out is not None:
                yield out

    @property
    def progress(self) -> float | None:
        return self._reader.progress if self._reader is not None else None

    def notices(self) -> list[Problem]:
        found = self._reader.notices() if self._reader is not None else []
        return found + list(self._source.extra_notices)


def newest_file(folder: Path, pattern: str) -> Path | None:
    """The most recently modified file matching any of the comma-separated patterns."""
    patterns = [p.strip() for p in pattern.split(",") if p.strip()]
    best: tuple[float, str, Path] | None = None
    for entry in os.scandir(folder):
        if not entry.is_file() or entry.name.startswith("."):
            continue  # hidden files are uploads still being written by some tools
        if not any(fnmatch.fnmatch(entry.name.casefold(), p.casefold()) for p in patterns):
            continue
        key = (entry.stat().st_mtime, entry.name, Path(entry.path))
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def prepare_csv(source: CsvSource, cursor: str | None) -> Fetch:
    """Plan a sync of a CSV source from its settings and saved cursor."""
    mode = "snapshot" if source.snapshot else "incremental"
    if url := source.setting("url", None):
        fetch = Fetch(open=lambda: SourceReader(source, lambda: _download(source, url, fetch)))
        fetch.mode, fetch.filename = mode, url.rsplit("/", 1)[-1] or url
        return fetch
    if folder := source.setting("folder", None):
        path = newest_file(Path(folder), source.setting("pattern"))
        if path is None:
            return Fetch(
                open=_nothing,
                nothing_new=(
                    f"tidak ada berkas di folder {folder}",
                    f"no file in folder {folder}",
                ),
            )
        key = f"{path.name}@{sha256_file(path)}"
        if key == cursor:
            return Fetch(
                open=_nothing,
                nothing_new=(
                    f"berkas terbaru {path.name} sudah diproses",
                    f"the newest file {path.name} was processed already",
                ),
            )
        return Fetch(
            open=lambda: SourceReader(source, lambda: (path, path.name)),
            mode=mode,
            filename=path.name,
            sha256=key.rsplit("@", 1)[1],
            cursor_after=key,
        )
    path = Path(source.setting("path"))
    return Fetch(
        open=lambda: SourceReader(source, lambda: (path, path.name)),
        mode=mode,
        filename=path.name,
        sha256=sha256_file(path) if path.is_file() else None,
    )


def _nothing() -> SourceReader:
    raise RuntimeError("nothing to fetch")


def _download(source: CsvSource, url: str, fetch: Fetch) -> tuple[Path, str]:
    """Stream `url` to a temporary file; the caller deletes it."""
    session = make_session()
    limit = int(source.setting("max_mb")) * 1024 * 1024
    timeout = (float(source.setting("connect_timeout")), float(source.setting("timeout")))
    name = url.split("?", 1)[0].rsplit("/", 1)[-1] or "download.csv"

    def attempt() -> Path:
        fd, tmp = tempfile.mkstemp(prefix="jamsos-download-", suffix=Path(name).suffix)
        try:
            with os.fdopen(fd, "wb") as out, session.get(url, stream=True, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    raise TransportFailure(f"HTTP {resp.status_code}", status=resp.status_code)
                _copy_limited(resp.iter_content(1 << 16), out, limit)
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp)

    try:
        path = with_retries(
            attempt,
            retries=int(source.setting("retries")),
            backoff=float(source.setting("backoff")),
        )
    finally:
        session.close()
    fetch.stats["bytes"] = path.stat().st_size
    # The receipt states the bytes downloaded, as an upload's states the file's.
    fetch.sha256 = sha256_file(path)
    return path, name


def _copy_limited(chunks: Iterator[bytes], out: IO[bytes], limit: int) -> None:
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise TransportFailure(f"download larger than {limit // 2**20} MiB", status=None)
        out.write(chunk)
