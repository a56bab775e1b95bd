"""Verification in the background after a roster is applied (docs/verification.md).

`after_roster(runtime)` is called by the roster intake once a run has committed: in a server
process (API, dashboard; not a command-line one, which ends with its command) it wakes
one daemon thread, which runs a pass (run.py) outside any roster
transaction. Wakes while a pass runs coalesce into one more pass. A daemon thread, unlike
the upload pool's (roster/queue.py): a pass holds nothing that must finish (each batch is its
own transaction; an interrupted one is asked again), so a process may exit without waiting
for the population service. A scheduler runs `jamsos verify run` for the rest (a plugin
sync, a pause that ended, re-checks by age).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import click

from gateway.verify.run import VerificationOff, verify_pending
from gateway.verify.settings import verification_settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
BUSY_RETRY_SECONDS = 30
_wanted = threading.Event()
_worker: tuple[int, threading.Thread] | None = None
_runtime: Any = None


def after_roster(runtime: Any) -> bool:
    """Ask for a pass soon, when verification is configured; True when one was asked for.
    Never raises: verification is advice, it must not fail a roster."""
    try:
        settings = verification_settings(runtime.config)
    except Exception:
        log.exception("verification settings unreadable; roster applied, nothing verified")
        return False
    if not settings.enabled:
        return False
    if click.get_current_context(silent=True) is not None:
        # A command (`jamsos roster submit`, `jamsos sync`) ends with its process: a pass
        # started here would be cut off. `jamsos verify run` (scheduled) asks instead.
        return False
    global _runtime
    with _lock:
        _runtime = runtime  # the latest (one per process in a server; tests make several)
        _wanted.set()
        if _worker is None or _worker[0] != os.getpid() or not _worker[1].is_alive():
            _start()
    return True


def _start() -> None:
    global _worker
    thread = threading.Thread(target=_loop, daemon=True, name="jamsos-verify")
    _worker = (os.getpid(), thread)
    thread.start()


def _loop() -> None:
    while _wanted.wait(timeout=1):  # a wake during the pass: one more; else end
        _wanted.clear()
        runtime = _runtime
        try:
            registry = runtime.registry
            result = verify_pending(registry.engine, registry.keyring, runtime.plugins,
                                    verification_settings(runtime.config))  # fmt: skip
            log.info("verification pass: %s", result.as_dict())
            if result.stopped == "busy":  # another process's pass: ours may come after it
                time.sleep(BUSY_RETRY_SECONDS)
                _wanted.set()
        except VerificationOff as exc:
            log.warning("%s", exc)
        except Exception:
            log.exception("verification pass failed; the next roster or `jamsos verify run` "
                          "retries")  # fmt: skip
    global _worker
    with _lock:
        _worker = None
        if _wanted.is_set():  # asked for again as the thread was ending: run on
            _start()


def idle(timeout: float = 30.0) -> bool:
    """Wait until no pass is running or wanted (tests, a graceful stop); True when idle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker = _worker
        if worker is None:
            return True
        worker[1].join(max(0.0, deadline - time.monotonic()))
    return _worker is None
