"""Stopping a run from outside: SIGTERM rolls it back and records it failed, at once (issue 20).

A scheduler that gives up on a task (Airflow marks it failed, a timeout, `kill`) sends SIGTERM,
then SIGKILL after a grace period. Python's default for SIGTERM ends the process where it
stands: the open transaction dies with it (nothing applied) but the run stays `running` until
a sweep notices, and a stop that arrives while the commit is under way could not be told from
one before it. Here:

* `stop_on_signals()` (around every `sync_source`, whoever calls it: `@stoppable`; and
  around `jamsos sync`) turns SIGTERM into `Stopped`, raised where the process is: a fetch,
  a batch, the apply. `roster/run.py`'s `recorded` rolls the transaction back and records the
  run failed with the cause ("dihentikan / stopped by SIGTERM"), then lets `Stopped` go on.
* `commit_gate()` wraps a run's apply transaction. `gate.close()`, the transaction's last
  statement, is the last moment a stop is honoured: a stop before it rolls back; a stop after
  it (during the COMMIT itself) is held until the commit has returned and raised then as
  `Stopped(committed=True)`, which `recorded` passes on without touching the run (it was
  applied, and its record says so). So a run is never committed after the stop was seen, and
  never recorded failed after it was committed.
* A second SIGTERM while the first is being handled (recording the failure) is held, not
  raised: the failure is recorded rather than interrupted. SIGKILL cannot be caught; the
  gateway's stale-run sweep fails such a run within minutes (gateway/store/liveness.py).
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

STOP_SIGNALS = (signal.SIGTERM,)


class Stopped(BaseException):
    """The process was asked to stop (SIGTERM). A BaseException, like KeyboardInterrupt, so no
    `except Exception` on the way swallows it."""

    def __init__(self, signame: str = "SIGTERM", *, committed: bool = False) -> None:
        self.signame = signame
        self.committed = committed
        super().__init__(f"dihentikan oleh {signame} / stopped by {signame}")


class _State:
    def __init__(self) -> None:
        self.installed = 0
        self.holding = 0  # inside a closed commit gate: stops are held, not raised
        self.pending: str | None = None  # a stop seen while holding
        self.raised = False  # a stop was raised: later ones are held


_state = _State()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    if _state.holding or _state.raised:
        _state.pending = _state.pending or name
        return
    _state.raised = True
    raise Stopped(name)


def stop_requested() -> str | None:
    """The signal's name if a stop arrived and was held (not raised yet)."""
    return _state.pending


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM raises `Stopped` in this (the main) thread while the block runs; the previous
    handlers come back after it. Outside the main thread it does nothing (Python delivers
    signals to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _on_signal) for sig in STOP_SIGNALS}
    _state.installed += 1
    try:
        yield
    finally:
        _state.installed -= 1
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not _state.installed:
            _state.pending, _state.raised = None, False


def stoppable(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` runs under `stop_on_signals()`: `roster/sync.py`'s `sync_source`, so every way a
    sync is started (`jamsos sync`, an Airflow task, `make run`) stops on SIGTERM. Airflow's
    own task runner only calls the operator's `on_kill()` on SIGTERM, which for a Python
    task does nothing: the sync carried on and committed after Airflow had marked it failed
    (issue 20)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with stop_on_signals():
            return fn(*args, **kwargs)

    return run


class CommitGate:
    """See `commit_gate`."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        """The last point a stop rolls the transaction back: call it as the transaction's
        last statement. From here to the end of the gate's block, stops are held."""
        if _state.pending is not None and not _state.raised:
            _state.raised = True
            raise Stopped(_state.pending)
        _state.holding += 1  # a signal now only sets `pending`
        self.closed = True


@contextmanager
def commit_gate() -> Iterator[CommitGate]:
    """Wrap a transaction (outside it, so the commit happens inside the gate's block); call
    `gate.close()` as its last statement. A stop held meanwhile is raised once the block is
    over: `Stopped(committed=True)` when the transaction committed."""
    gate = CommitGate()
    committed = False
    try:
        yield gate
        committed = gate.closed
    finally:
        if gate.closed:
            _state.holding -= 1
            name = _state.pending
            if name is not None and not _state.raised:
                _state.raised = True
                _state.pending = None
                raise Stopped(name, committed=committed)
