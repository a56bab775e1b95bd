"""Running one source now: plan, record the run, fetch, validate, apply, move the cursor.

A sync is the roster run fed by a plugin's source rather than an upload (a budget source goes
through `gateway/budget/feed.py` instead). It lives here, beside `run.py`, and not in
`gateway/sources/`: the source kits never touch the registry, this module does.

    result = sync_source(registry, pm, source, today=clock.today(), trigger="cli")

The same path for every source and every trigger (CLI, Airflow, `make run`):

1. `source.prepare(cursor)` plans the fetch from the saved cursor (nothing new: no run; a
   SOAP service's "no change" is only known from its answer: a run of 0 rows, which moves
   the cursor).
2. The run is recorded as `running` (with `cursor_before`), so a crash leaves a trace.
3. `roster.run.apply_rows` (rosters) or `budget.feed.apply_budget_rows` (budgets) opens the
   rows (a network feed is fetched completely into a spool first), validates each row with
   the shared rules plus the plugins' `validate_record`, and applies it all in one
   transaction. The cursor is saved inside that transaction, only when the run succeeds.
4. Whatever the source or a plugin raises fails the run with the cause in its record (never a
   response body: it may hold NIKs); the registry and the cursor stay as they were.
5. `after_run` hooks are told; their failures are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gateway.budget.feed import apply_budget_rows
from gateway.domain.agencies import resolve_agency
from gateway.domain.records import Message, Problem, RawRow, RowResult, Severity, make_problem
from gateway.reconcile.feeds import FEED_KINDS, apply_feed_rows
from gateway.roster.cancel import stoppable
from gateway.roster.read.reader import RosterFileError
from gateway.roster.run import Progress, RosterReport, RowCheck, RowReader, RunFailed, apply_rows
from gateway.sources.base import Fetch, Source
from gateway.sources.loader import GatewayPluginManager
from gateway.sources.transport import describe_error
from gateway.store.registry import Registry


class SourceError(Exception):
    """A source or plugin failed during a run; the message names which and why."""


@dataclass
class SyncResult:
    source: str
    status: str  # succeeded | rejected | failed | nothing_new
    report: RosterReport | None = None
    message: tuple[str, str] | None = None  # (Bahasa Indonesia, English) for nothing_new
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> int | None:
        return self.report.run_id if self.report else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "status": self.status}
        if self.message:
            out["message_id"], out["message_en"] = self.message
        if self.report is not None:
            out["report"] = self.report.as_dict()
        if self.warnings:
            out["warnings"] = self.warnings
        if self.stats:
            out["stats"] = self.stats
        return out


PLUGIN_MESSAGES: dict[str, Message] = {
    "plugin_check_failed": Message(
        Severity.WARNING,
        "Pemeriksaan tambahan plugin {plugin} gagal dan dilewati untuk run ini: {error}",
        "Plugin {plugin}'s extra check failed and was skipped for this run: {error}",
    ),
}


def _who(source: Source) -> str:
    return f"plugin {source.plugin or '?'}, source {source.id}"


class GuardedReader:
    """Wraps a source's reader so a failure names the plugin and never quotes a response."""

    def __init__(
        self, source: Source, fetch: Fetch, extra: list[Problem],
        on_input: Callable[[str], None] | None = None,
    ) -> None:
        self._source = source
        self._fetch = fetch
        self._extra = extra  # warnings raised while checking rows (make_row_check)
        self._on_input = on_input  # told the input's digest when the fetch found it
        self._reader: RowReader | None = None
        self.columns: dict[str, str] = {}
        self.unknown_columns: list[str] = []

    def _guard(self, exc: Exception) -> Exception:
        if isinstance(exc, RosterFileError | SourceError):
            return exc
        return SourceError(f"{_who(self._source)}: {describe_error(exc)}")

    def __enter__(self) -> GuardedReader:
        known = self._fetch.sha256
        try:
            self._reader = self._fetch.open().__enter__()
        except Exception as exc:
            raise self._guard(exc) from exc
        if self._on_input is not None and self._fetch.sha256 and self._fetch.sha256 != known:
            self._on_input(self._fetch.sha256)
        self.columns = dict(self._reader.columns)
        self.unknown_columns = list(self._reader.unknown_columns)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.__exit__(*exc)

    def __iter__(self) -> Iterator[RawRow]:
        assert self._reader is not None
        rows = iter(self._reader)
        while True:
            try:
                raw = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise self._guard(exc) from exc
            yield raw

    @property
    def progress(self) -> float | None:
        return self._reader.progress if self._reader is not None else None

    def notices(self) -> list[Problem]:
        found = self._reader.notices() if self._reader is not None else []
        return found + self._extra


def make_row_check(
    pm: GatewayPluginManager, source: Source, reader_notices: list[Problem],
    *, only: str | None = None,
) -> RowCheck:
    """The plugins' `validate_record` hooks as the roster run's per-row check.

    Each plugin is called on its own: if the source's own plugin raises, the run fails (its
    rules are part of this feed); if another plugin raises, its check is switched off for
    this run with a warning, so one broken plugin cannot stop every agency's sync.
    `only`: that plugin's hook alone (an upload of the agency it feeds, roster/intake.py).
    """
    impls = [i for i in pm.hook.validate_record.get_hookimpls() if only in (None, i.plugin_name)]
    disabled: set[str] = set()

    def check(raw: RawRow, result: RowResult) -> None:
        for impl in impls:
            if impl.plugin_name in disabled:
                continue
            kwargs = {"source": source, "raw": raw, "result": result}
            try:
                found = _problems_of(impl.function(**{k: kwargs[k] for k in impl.argnames}))
            except Exception as exc:
                if impl.plugin_name == source.plugin:
                    raise SourceError(
                        f"{_who(source)}: validate_record raised {type(exc).__name__}: {exc}"
                    ) from exc
                disabled.add(impl.plugin_name)
                reader_notices.append(
                    make_problem(
                        PLUGIN_MESSAGES,
                        "plugin_check_failed",
                        raw.row,
                        None,
                        plugin=impl.plugin_name,
                        error=f"{type(exc).__name__}: {exc}"[:200],
                    )
                )
                continue
            for problem in found:
                result.problems.append(problem)
                if problem.severity is Severity.ERROR:
                    result.record = None

    return check


def _problems_of(returned: object) -> list[Problem]:
    """What a `validate_record` hook returned, checked: None or a list of Problems whose
    severity is a Severity. Anything else is the plugin's bug, raised here (inside the
    caller's guard) with what was wrong, rather than failing later in the run as "'Problem'
    object is not iterable" with no plugin named, and for every agency's sync."""
    if returned is None:
        return []
    if isinstance(returned, Problem) or not isinstance(returned, list | tuple):
        raise TypeError(
            "validate_record must return a list of Problem (or None), not "
            f"{type(returned).__name__}"
        )
    for item in returned:
        if not isinstance(item, Problem):
            kind = type(item).__name__
            raise TypeError(f"validate_record returned a {kind} in its list, not a Problem")
        if not isinstance(item.severity, Severity):
            raise TypeError(
                f"validate_record returned a Problem whose severity is {item.severity!r}: "
                "use Severity.ERROR or Severity.WARNING"
            )
    return list(returned)


@stoppable  # SIGTERM rolls the run back and records it failed (roster/cancel.py)
def sync_source(
    registry: Registry,
    pm: GatewayPluginManager,
    source: Source,
    *,
    today: date,
    trigger: str,
    full: bool = False,
    batch_size: int = 2000,
    progress: Progress | None = None,
    external_id: str | None = None,
) -> SyncResult:
    """Run `source` once. Never raises for a source's or plugin's failure: the result (and
    the run record) says `failed` with the cause. A sync that finds nothing new before it
    fetches (no new file, the same file) records no run, but is remembered
    (`Registry.mark_checked`): feed health counts it."""
    cursor = None if full else registry.get_cursor(source.id)
    mode = "incremental" if cursor is not None else "snapshot"
    try:
        agency = resolve_agency(source.agency) if source.kind == "roster" else None
        fetch = source.prepare(cursor)
        mode = fetch.mode
    except Exception as exc:
        # Misconfigured (no url, unknown agency) or a plugin bug while planning: still a run,
        # so the failure shows where operators look.
        run_id = registry.start_run(
            agency=source.agency or "-",
            source=source.id,
            trigger=trigger,
            external_id=external_id,
            mode=mode,
        )
        error = f"{_who(source)}: {describe_error(exc)}"
        registry.fail_run(run_id, error)
        report = RosterReport(run_id=run_id, status="failed", error=error)
        return _after(pm, registry, source, SyncResult(source.id, "failed", report))
    if fetch.nothing_new is not None:
        registry.mark_checked(source.id)
        return SyncResult(source.id, "nothing_new", message=fetch.nothing_new)
    # A file read where it lies: the same bytes as this source's last applied run change
    # nothing (as for uploads), so no new run is recorded.
    replayable = fetch.sha256 if fetch.cursor_after is None else None

    def same_file(conn: Any = None) -> dict | None:
        if replayable is None:
            return None
        earlier = registry.find_applied_run(source.agency, replayable, conn)
        return earlier if earlier is not None and earlier["source"] == source.id else None

    if (earlier := same_file()) is not None:
        return _nothing_new(registry, source, earlier["id"])

    def replay_of(conn: Any) -> dict | None:
        # Asked under the agency's lock: a second sync of this source started while the first
        # ran (`jamsos sync` by hand beside the scheduled one) has waited for it. If the first
        # moved the cursor this one started from, or applied the same file, this one is stale
        # and is discarded instead of applying it all again. A full sync starts from no
        # cursor on purpose: only the same file makes it a replay.
        if not full:
            moved_to, by_run = registry.cursor_state(conn, source.id)
            if moved_to != cursor and by_run is not None:
                return registry.get_run(by_run)
        return same_file(conn)

    run_id = registry.start_run(
        agency=source.agency,
        source=source.id,
        trigger=trigger,
        filename=fetch.filename,
        input_sha256=fetch.sha256,
        external_id=external_id,
        mode=fetch.mode,
    )
    if cursor is not None:
        registry.set_run_cursor_before(run_id, cursor)

    def save_cursor(conn: Any) -> None:
        if fetch.cursor_after is not None:
            registry.save_cursor(conn, source.id, fetch.cursor_after, run_id)

    def on_success(conn: Any) -> None:
        save_cursor(conn)
        # The same problems as the source's last run (an unchanged daily re-sync) are kept
        # once: this run points at the run that holds them (store/problem_sets.py).
        registry.share_problems(conn, run_id, source.id, source.agency)

    def record_input(digest: str) -> None:
        # A feed's digest is known only once fetched (a SOAP feed's canonical rows, a
        # download's bytes); recorded before the apply, so the receipt states it.
        registry.set_input_sha256(run_id, digest)

    def guarded() -> GuardedReader:
        return GuardedReader(source, fetch, extra, record_input)

    extra: list[Problem] = []
    source.extra_notices.clear()
    try:
        if source.kind == "budget":
            report = apply_budget_rows(
                registry,
                run_id,
                guarded,
                on_success=save_cursor,
                replay_of=replay_of,
            )
        elif source.kind in FEED_KINDS:  # BPJS's membership lists, bills, payments
            report = apply_feed_rows(
                registry, run_id, guarded, kind=source.kind,
                code_lengths=tuple(source.setting("payment_code_lengths", (11, 12))),
                on_success=save_cursor, replay_of=replay_of,
            )  # fmt: skip
        else:
            assert agency is not None
            report = apply_rows(
                registry,
                run_id,
                guarded,
                agency=agency,
                today=today,
                mode=fetch.mode,
                batch_size=batch_size,
                progress=progress,
                check_row=make_row_check(pm, source, extra),
                on_success=on_success,
                replay_of=replay_of,
            )
        if report.replayed:  # discarded: an earlier run applied what this one fetched
            return _nothing_new(registry, source, report.run_id)
        if report.status == "rejected" and report.run_id is not None:
            # Rejected again as last time (a feed with no acceptable row): the same problems
            # are kept once, as a succeeded run's are (on_success).
            registry.share_problems(None, report.run_id, source.id, source.agency)
    except RunFailed as exc:
        report = exc.report
    result = SyncResult(source.id, report.status, report, stats=dict(fetch.stats))
    return _after(pm, registry, source, result)


def _nothing_new(registry: Registry, source: Source, earlier: int | None) -> SyncResult:
    registry.mark_checked(source.id)
    return SyncResult(
        source.id,
        "nothing_new",
        message=(
            f"sudah diterapkan oleh run {earlier}",
            f"already applied by run {earlier}",
        ),
    )


def _after(
    pm: GatewayPluginManager, registry: Registry, source: Source, result: SyncResult
) -> SyncResult:
    """Tell the `after_run` hooks, one plugin at a time; a failure is a warning."""
    run = registry.get_run(result.run_id) if result.run_id is not None else None
    if run is None:
        return result
    for impl in pm.hook.after_run.get_hookimpls():
        kwargs = {"source": source, "run": dict(run)}
        try:
            impl.function(**{k: kwargs[k] for k in impl.argnames})
        except Exception as exc:
            result.warnings.append(
                f"after_run of plugin {impl.plugin_name} failed / gagal: "
                f"{type(exc).__name__}: {exc}"[:500]
            )
    return result
