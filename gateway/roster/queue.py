"""Uploads applied in the background (issue 16, finding 3): a roster upload is answered at
once (202 and the run's URL) and applied by a thread of the process that took it.

Why a thread in the server process, not a queue table and a `jamsos worker`: the upload is
already in this process, sealed under a key only this process holds (gateway/roster/
uploads.py), so no key has to be stored to let another process read it; under gunicorn each
worker process has its own pool, and a sync worker's main thread keeps answering (and
telling the arbiter it is alive) while the apply runs beside it, so no timeout applies to it.
What a thread cannot survive is its process: a SIGKILL, an OOM kill or a deploy that outlasts
the graceful timeout. The run is then failed as "interrupted" by the next sweep (the next
upload, or `jamsos serve` starting), its spool removed, and the client resends the file:
nothing of it was applied (one transaction). Threads are not daemons, so a graceful stop
waits for the apply (gunicorn's graceful timeout, `jamsos serve --graceful-timeout`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

# UPLOAD_THREADS: rosters a server process applies at once (each also uses the preparation
# worker processes of gateway/roster/parallel.py). More wait in the pool's queue.
DEFAULT_THREADS = 2

_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor(threads: int) -> ThreadPoolExecutor:
    """This process's pool, made on first use: after gunicorn forks, each worker its own."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="jamsos-upload")
            _pool = (os.getpid(), pool)
        return _pool[1]


def in_background(job: Callable[[], T], *, threads: int = DEFAULT_THREADS,
                  cleanup: Callable[[], None] | None = None) -> Future[T]:  # fmt: skip
    """Run `job` on this process's upload pool; `cleanup` afterwards, whatever happened."""

    def run() -> T:
        try:
            return job()
        except BaseException:
            # The run records its own failure (gateway/roster/run.py `recorded`); this is
            # for what went wrong around it.
            log.exception("background roster apply failed")
            raise
        finally:
            if cleanup is not None:
                cleanup()

    return _executor(threads).submit(run)
