"""Which process runs a run, and whether it still lives (issue 16, finding 10).

A run is recorded `running` before its apply starts; a process killed meanwhile (SIGKILL, the
OOM killer, a lost container) leaves it so. Age alone cannot tell such a run from a long live
one, so each run names its owner: host, boot id, PID namespace, pid and the process's start
time (which a reused pid does not share). A run whose owner is on this machine and in this
PID namespace is judged at once; any other (another machine, another container, an owner
recorded before migration 0011) is not ours to judge and falls back to its age.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, delete, func, select, update

from gateway.clock import aware
from gateway.store import audit
from gateway.store.db import writing
from gateway.store.tables import process_heartbeats, runs

_PROC = Path("/proc")
log = logging.getLogger(__name__)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start (clock ticks since boot, /proc/<pid>/stat field 22); "" where
    there is no /proc; None when there is no such live process (gone, or a zombie)."""
    if not _PROC.is_dir():
        return ""
    stat = _read(_PROC / str(pid) / "stat")
    if not stat:
        return None
    fields = stat.rpartition(")")[2].split()  # the name in parentheses may hold spaces
    if len(fields) < 20 or fields[0] in ("Z", "X"):  # killed, not yet reaped: gone
        return None
    return fields[19]


def _namespace(pid: int | str = "self") -> str:
    try:
        return os.readlink(_PROC / str(pid) / "ns" / "pid")
    except OSError:
        return ""


def _machine() -> tuple[str, str, str]:
    return (socket.gethostname(), _read(_PROC / "sys/kernel/random/boot_id"), _namespace())


def process_owner(pid: int | None = None) -> str:
    """`host|boot id|pid namespace|pid|start time` of this process (or `pid`, on this
    machine), as `runs.owner` records it."""
    pid = os.getpid() if pid is None else pid
    host, boot, namespace = _machine()
    return "|".join((host, boot, namespace, str(pid), _start_time(pid) or ""))[:200]


def owner_alive(owner: str | None) -> bool | None:
    """True when the owner process lives, False when it is gone, None when this process
    cannot tell (another machine, PID namespace or an owner it cannot read)."""
    parts = (owner or "").split("|")
    if len(parts) != 5 or not parts[3].isdigit():
        return None
    host, boot, namespace, pid, started = parts
    here_host, here_boot, here_namespace = _machine()
    if host != here_host or namespace != here_namespace:
        return None
    if boot and here_boot and boot != here_boot:
        return False  # the machine restarted since: every process of then is gone
    now = _start_time(int(pid))
    if now == "":  # no /proc: the pid alone (it may have been reused: then thought alive)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return now is not None and now == started


def interrupted_error(why: str) -> str:
    """The one text a run failed by a sweep gets, whichever sweep found it (the runs sweep
    below, or the uploads' spool sweep, gateway/roster/uploads.py)."""
    return (f"interrupted: {why} before it finished; nothing of it was applied, send it "
            "again / terhenti: tidak ada yang diterapkan, kirim ulang")


def fail_interrupted(engine: Engine, run_id: int, why: str = "its process ended",
                     *, now: datetime | None = None) -> bool:
    """Fail one run still `running` as interrupted (audited `run_interrupted`, so `audit
    verify` finds no finished run without an entry); False if it had finished meanwhile."""
    with writing(engine) as conn:
        if not conn.execute(
            update(runs)
            .where(and_(runs.c.id == run_id, runs.c.status == "running"))
            .values(status="failed", finished_at=now or datetime.now(UTC),
                    error=interrupted_error(why))
        ).rowcount:
            return False
        audit.append(conn, actor="system", action="run_interrupted",
                     subject=f"run:{run_id}", details={"reason": why})
    return True


HEARTBEAT_SILENCE = timedelta(minutes=3)  # the least silence that counts as death


def beat(engine: Engine, every: float, *, now: datetime | None = None) -> None:
    """This process's heartbeat (PostgreSQL only): its sweeper calls it every SWEEP_SECONDS,
    so another machine can tell its runs live. SQLite serves one machine (the owner check
    above is enough there), and a heartbeat write would queue behind every apply. Rows of
    processes silent for a day are dropped."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    now = now or datetime.now(UTC)
    owner = process_owner()
    with writing(engine) as conn:
        conn.execute(pg_insert(process_heartbeats)
                     .values(owner=owner, beat_at=now, every_seconds=round(every))
                     .on_conflict_do_update(index_elements=["owner"],
                                            set_={"beat_at": now,
                                                  "every_seconds": round(every)}))  # fmt: skip
        conn.execute(delete(process_heartbeats)
                     .where(process_heartbeats.c.beat_at < now - timedelta(days=1)))


def sweep_runs(engine: Engine, older_than: timedelta, *, now: datetime | None = None) -> int:
    """Fail the runs left `running` by a process that is gone: at once when their owner ran
    on this machine and is dead; a run this process cannot judge (another machine or
    container) once its owner missed three heartbeats (at least HEARTBEAT_SILENCE;
    PostgreSQL), or, with no heartbeat (SQLite, a sweep switched off, an owner recorded
    before revision 0015), once the run is older than `older_than`. A live run on this
    machine is never failed, however long it takes. Reads first and writes only for what it
    finds, so every process start and every run start can afford it."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        found = conn.execute(
            select(runs.c.id, runs.c.owner, runs.c.started_at).where(runs.c.status == "running")
        ).all()
        hb = process_heartbeats.c
        beats = {owner: (aware(at), max(HEARTBEAT_SILENCE, timedelta(seconds=3 * every)))
                 for owner, at, every in conn.execute(select(hb.owner, hb.beat_at,
                                                            hb.every_seconds))
                 } if found else {}  # fmt: skip
    gone: list[tuple[int, str]] = []
    for run_id, owner, started in found:
        alive = owner_alive(owner)
        if alive is False:
            gone.append((run_id, "its process ended"))
        elif alive is None and owner in beats:
            last, silence = beats[owner]
            if last < now - silence:  # type: ignore[operator]
                gone.append((run_id, f"its process stopped its heartbeat over {silence} ago"))
        elif alive is None and aware(started) < now - older_than:  # type: ignore[operator]
            gone.append((run_id, f"no sign of its process for over {older_than}"))
    return sum(fail_interrupted(engine, run_id, why, now=now) for run_id, why in gone)


class Sweeper:
    """Sweeps now and then while a process lives (issue 20): a run whose process was
    SIGKILLed (Airflow's second signal, the OOM killer) used to stay `running` until some
    other run started, or 6 hours. Every gateway process starts one (`start_sweeper`): a
    server worker, a command, a scheduler task; a daemon thread, so it never keeps a process
    alive, and one per process (after a fork, the child starts its own)."""

    def __init__(self, key: tuple[int, str], sweep: Callable[[], bool], period: float) -> None:
        self.key, self.sweep, self.period = key, sweep, period
        self.stop = threading.Event()
        self.passes = 0
        self.thread = threading.Thread(target=self._loop, name="jamsos-sweeper", daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.period):
            try:
                if not self.sweep():
                    break  # its runtime is gone
            except Exception:  # a database away for a moment: the next pass tries again
                log.warning("stale-run sweep failed; retrying in %s s", self.period,
                            exc_info=True)
            self.passes += 1
        with _sweepers_lock:
            _sweepers.pop(self.key, None)


_sweepers: dict[tuple[int, str], Sweeper] = {}
_sweepers_lock = threading.Lock()


def start_sweeper(name: str, sweep: Callable[[], bool], period: float) -> Sweeper | None:
    """Run `sweep()` every `period` seconds in a daemon thread of this process, once per
    `name` (a runtime), until it returns False; None when `period` is 0 (switched off)."""
    if period <= 0:
        return None
    key = (os.getpid(), name)
    with _sweepers_lock:
        if key not in _sweepers:
            _sweepers[key] = Sweeper(key, sweep, period)
            _sweepers[key].thread.start()
        return _sweepers[key]


def stop_sweepers() -> None:
    """Stop this process's sweepers (a test that started one; a clean shutdown)."""
    with _sweepers_lock:
        found = list(_sweepers.values())
    for sweeper in found:
        sweeper.stop.set()
        sweeper.thread.join(timeout=10)


def oldest_running(engine: Engine) -> datetime | None:
    """When the oldest run still `running` started (None: none runs): /metrics shows its age,
    so a run stuck past its scheduler's timeout can raise an alert (deploy/prometheus/)."""
    with engine.connect() as conn:
        started = conn.execute(
            select(func.min(runs.c.started_at)).where(runs.c.status == "running")
        ).scalar_one()
    return aware(started) if started is not None else None
