"""The contract test kit: one class in a plugin's tests gives it the standard checks.

    from gateway.testing import SourceContract
    from jamsos_kemenkes import KemenkesPPNPN

    class TestContract(SourceContract):
        source_class = KemenkesPPNPN

The checks run the real gateway on a throwaway SQLite registry, against the plugin's sample
input (`samples/` in its package): CSV/XLSX files for a CsvSource; recorded responses
(`*.xml`, one per page, in name order) for a SoapSource, replayed by a real HTTP server on
127.0.0.1 that zeep talks to. What they check:

* the plugin loads as the gateway loads it (hooks that match the hookspecs) and its
  `register_sources` returns the class;
* the module imports without touching the network;
* every sample row maps to a record or is rejected with a coded problem, never an exception;
* malformed or truncated input becomes problems or a failed run, never an unhandled
  exception, and leaves the registry as it was;
* a sync succeeds end to end, and the cursor moves only on success;
* a SOAP source asks for each recorded page as the service needs to be asked: a new page
  number, or the next-page token the page before gave (`gateway/sources/replay.py`);
* a full fetch (every sync of a source that is not `incremental`) ends the workers it no
  longer lists; a `cursor_after()` needs `incremental = True`, and a status flag's field
  is in the samples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gateway.domain.records import RawRow, Severity
from gateway.sources.base import CsvSource, SoapSource, Source
from gateway.sources.replay import ReplayServer
from gateway.store.db import count_rows

TODAY = date(2025, 6, 2)

# Destination plugins have their own kit, importable from here like the source kit.
from gateway.destination_testing import DestinationContract  # noqa: E402

__all__ = ["TODAY", "DestinationContract", "ReplayServer", "SourceContract", "registry_counts",
           "sample_files"]  # fmt: skip


def sample_files(source_class: type[Source]) -> list[Path]:
    """The plugin's sample inputs, in name order."""
    folder = Path(str(source_class.resource(source_class.samples)))
    suffixes = (".xml",) if issubclass(source_class, SoapSource) else (".csv", ".xlsx")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)


def registry_counts(registry: Any) -> dict[str, int]:
    """Rows per registry table: 'exactly as before' compares these."""
    names = ("workers", "enrollments", "enrollment_history", "budget_allocations")
    return count_rows(registry.engine, names)


class SourceContract:
    """Base class of a plugin's contract tests; set `source_class` (and `settings` when the
    class needs some, e.g. the agency of a generic regional source)."""

    source_class: ClassVar[type[Source]]
    settings: ClassVar[dict[str, Any]] = {}

    # -- fixtures ---------------------------------------------------------------------------
    @pytest.fixture
    def plugin_manager(self) -> Any:
        from gateway.sources.loader import make_plugin_manager

        module = sys.modules[self.source_class.__module__]
        package = sys.modules[self.source_class.__module__.split(".")[0]]
        plugin = package if hasattr(package, "register_sources") else module
        return make_plugin_manager(load_entry_points=False, plugins={"under-test": plugin})

    @pytest.fixture
    def registry(self, tmp_path: Path) -> Any:
        from gateway.app import create_app

        app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "CONFIG_FILE": None})
        return app.extensions["jamsos"].registry

    @pytest.fixture
    def replay(self) -> Iterator[ReplayServer | None]:
        if not issubclass(self.source_class, SoapSource):
            yield None
            return
        server = ReplayServer([p.read_bytes() for p in sample_files(self.source_class)])
        yield server
        server.close()

    def make_source(self, replay: ReplayServer | None, **settings: Any) -> Source:
        base: dict[str, Any] = dict(self.settings)
        if replay is not None:
            base.update(url=replay.url, username="contract", password="contract", retries=0)
            base.setdefault("timeout", 10)
        base.update(settings)
        source = self.source_class(base)
        source.plugin = "under-test"
        if replay is not None:
            # The replay serves its last page again for ever: a `more_pages` that never says
            # False must fail here in a moment, not after the real cap of pages.
            source.max_pages = 2 * len(replay.pages) + 1  # type: ignore[attr-defined]
        return source

    def sync(self, registry: Any, pm: Any, source: Source, **kw: Any) -> Any:
        from gateway.roster.sync import sync_source

        return sync_source(registry, pm, source, today=TODAY, trigger="test", **kw)

    # -- the checks ------------------------------------------------------------------------
    def test_loads_and_registers_its_source(self, plugin_manager: Any) -> None:
        """The plugin as the gateway loads it: hooks that match the hookspecs (a misspelt
        hook, a wrong parameter) and a `register_sources` that returns this class."""
        from gateway.sources.loader import collect_sources

        found = collect_sources(plugin_manager)
        errors = plugin_manager.load_errors.get("under-test", [])
        assert not errors, "the gateway refuses this plugin:\n" + "\n".join(errors)
        registered = {entry.cls for entry in found.values()}
        assert self.source_class in registered, (
            f"register_sources does not return {self.source_class.__name__} (is the hook "
            "decorated with @hookimpl, and does it return a list of Source classes?)"
        )

    def test_declares_the_contract(self) -> None:
        cls = self.source_class
        assert cls.id and cls.id == cls.id.lower() and " " not in cls.id, "id: lower-case"
        from gateway.sources.loader import KINDS

        assert cls.kind in KINDS, f"kind: one of {KINDS}"
        if cls.kind == "roster":
            from gateway.domain.agencies import resolve_agency

            resolve_agency(self.settings.get("agency") or cls.agency)  # raises if unknown
        if issubclass(cls, SoapSource):
            assert cls.operation, "SoapSource.operation"
            assert cls.resource(cls.wsdl).is_file(), f"WSDL {cls.wsdl} not in the package"
        assert sample_files(cls), f"no sample input in {cls.samples}/"
        if issubclass(cls, SoapSource):
            own_cursor = cls.cursor_after is not SoapSource.cursor_after
            assert cls.incremental or not own_cursor, (
                f"{cls.__name__} defines cursor_after() but not incremental = True: the "
                "cursor is never sent, every sync is a full snapshot. If the service answers "
                "'changed since', declare incremental = True; if it does not, remove "
                "cursor_after() (the absent workers are then ended every sync)"
            )
            assert own_cursor or not cls.incremental, (
                f"{cls.__name__} says incremental = True but has no cursor_after(): nothing "
                "would be sent as 'changed since' next time"
            )

    def test_imports_without_network(self) -> None:
        module = self.source_class.__module__
        code = textwrap.dedent(
            f"""
            import socket
            def deny(*args, **kwargs):
                raise RuntimeError("network used at import time")
            socket.socket.connect = deny
            socket.create_connection = deny
            socket.getaddrinfo = deny
            import {module} as m
            cls = getattr(m, {self.source_class.__name__!r})
            if getattr(cls, "wsdl", ""):
                cls.resource(cls.wsdl).read_bytes()
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr[-2000:]

    def test_every_sample_row_maps_or_is_rejected_with_a_code(
        self, plugin_manager: Any, replay: ReplayServer | None, tmp_path: Path
    ) -> None:
        from gateway.budget.feed import BudgetTally, check_budget_row
        from gateway.domain.validation import validate_row
        from gateway.roster.sync import make_row_check

        for sample in sample_files(self.source_class):
            source = self.make_source(replay, **self._input_for(sample, tmp_path))
            if replay is not None:
                replay.reset()
            fetch = source.prepare(None)
            seen = 0
            flagged = 0  # rows carrying the status flag's field, skipped ones included
            with fetch.open() as reader:
                check = make_row_check(plugin_manager, source, [])
                tally = BudgetTally()
                for raw in reader:
                    seen += 1
                    flagged += source.status is not None and source.status.field in raw.values
                    self._assert_coded(raw, source, check, tally, validate_row, check_budget_row)
                flagged += sum(p.code == "row_skipped" for p in source.extra_notices)
            assert seen, f"{sample.name}: no rows read"
            if source.status is not None:
                assert flagged, (
                    f"{sample.name}: no row has the status flag's field "
                    f"{source.status.field!r}: map it (aliases for a CSV source, columns or "
                    "map_row for a SOAP source), or the flag never ends anyone"
                )
            if replay is not None:
                break  # the recorded pages are one fetch

    def _assert_coded(self, raw: RawRow, source: Source, check, tally, validate, budget) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(raw, RawRow)
        if source.kind == "budget":
            problems = budget(raw, tally)
            assert all(p.code for p in problems)
            return
        result = validate(raw, today=TODAY, default_category=None)
        check(raw, result)
        if result.record is None:
            errors = [p for p in result.problems if p.severity is Severity.ERROR]
            assert errors and all(p.code and p.message_id and p.message_en for p in errors), (
                f"row {raw.row} rejected without a coded error"
            )

    def test_malformed_input_fails_cleanly(
        self, plugin_manager: Any, registry: Any, replay: ReplayServer | None, tmp_path: Path
    ) -> None:
        before = registry_counts(registry)
        broken = []
        if replay is not None:
            replay.reset(broken_page=1)
            broken.append(self.make_source(replay))
        else:
            sample = sample_files(self.source_class)[0]
            data = sample.read_bytes()
            for i, content in enumerate((data[: len(data) // 3], b"\x00\xff garbage", b"")):
                path = tmp_path / f"broken{i}{sample.suffix}"
                path.write_bytes(content)
                broken.append(self.make_source(None, path=str(path)))
        for source in broken:
            result = self.sync(registry, plugin_manager, source)  # must not raise
            assert result.status in ("failed", "rejected", "succeeded"), result.status
            run = registry.get_run(result.run_id)
            assert run["status"] == result.status
            if result.status == "failed":
                assert run["error"], "a failed run says why"
        if replay is not None:
            assert registry_counts(registry) == before, "a failed fetch applied something"

    def test_cursor_moves_only_on_success(
        self, plugin_manager: Any, registry: Any, replay: ReplayServer | None, tmp_path: Path
    ) -> None:
        drop = tmp_path / "drop"
        drop.mkdir()
        if replay is not None:
            source = self.make_source(replay)
        else:
            shutil.copy(sample_files(self.source_class)[0], drop)
            source = self.make_source(None, folder=str(drop))
        first = self.sync(registry, plugin_manager, source)
        assert first.status == "succeeded", first.report and first.report.as_dict()
        cursor = registry.get_cursor(source.id)
        counts = registry_counts(registry)
        if replay is not None:
            replay.reset(broken_page=1)
        else:
            (drop / "zz_newer.csv").write_bytes(b"\x00\x01 not a roster")
        second = self.sync(registry, plugin_manager, self.make_source(replay, **self._drop(drop)))
        assert second.status in ("failed", "rejected")
        assert registry.get_cursor(source.id) == cursor, "cursor moved on a failed run"
        assert registry_counts(registry) == counts

    def _input_for(self, sample: Path, tmp_path: Path) -> dict[str, Any]:
        return {} if issubclass(self.source_class, SoapSource) else {"path": str(sample)}

    def _drop(self, drop: Path) -> dict[str, Any]:
        return {"folder": str(drop)} if issubclass(self.source_class, CsvSource) else {}

    def test_asks_for_each_recorded_page(self, replay: ReplayServer | None) -> None:
        """A SOAP source sends what the real service needs to give the next page (its page
        number or the token of the page before), and stops at the last page."""
        if replay is None:
            pytest.skip("a CSV source has no pages")
        replay.reset()
        source = self.make_source(replay)
        failure: Exception | None = None
        try:
            with source.prepare(None).open() as reader:
                for _ in reader:
                    pass
        except Exception as exc:  # reported below, after what the server saw
            failure = exc
        assert not replay.violations, "\n".join(replay.violations)
        assert failure is None, f"the fetch failed: {failure}"
        assert replay.served == len(replay.pages), (
            f"the fetch asked for {replay.served} of the {len(replay.pages)} recorded pages: "
            "more_pages() ended it early"
        )

    def test_a_full_fetch_ends_the_absent(
        self, plugin_manager: Any, registry: Any, replay: ReplayServer | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A worker missing from a full fetch is ended: every sync of a source that is not
        `incremental`, a `--full` sync of one that is."""
        cls = self.source_class
        if cls.kind != "roster" or not cls.snapshot:
            pytest.skip("a source that never sends a complete list (snapshot = False) ends nobody")
        # The kit's samples are small: one worker of a handful is over the endings guard's
        # share, which is about real feeds (gateway/roster/endings.py).
        monkeypatch.setenv("JAMSOS_ENDING_CONFIRM_SHARE", "1")
        drop = tmp_path / "drop"
        drop.mkdir()
        sample = sample_files(cls)[0]
        if replay is not None:
            replay.reset()
        else:
            shutil.copy(sample, drop)
        first = self.sync(registry, plugin_manager, self.make_source(replay, **self._drop(drop)))
        assert first.status == "succeeded", first.report and first.report.as_dict()
        if replay is not None:
            replay.reset()
        else:
            later = drop / f"zz_later{sample.suffix}"
            shutil.copy(sample, later)
            stamp = time.time() + 60
            os.utime(later, (stamp, stamp))
        second = self.make_source(replay, **self._drop(drop))
        dropped = self._leave_out_one_worker(second, registry)
        full = bool(getattr(cls, "incremental", False))  # an incremental source: --full
        result = self.sync(registry, plugin_manager, second, full=full)
        assert dropped, "no sample row became an active worker of the first sync"
        assert result.status == "succeeded", result.report and result.report.as_dict()
        run = registry.get_run(result.run_id)
        worker = registry.find_worker(dropped[0]) or {}
        status = {e["agency"]: e["status"] for e in worker.get("enrollments", [])}
        assert status.get(second.agency) == "ended", (
            f"a worker absent from a full fetch was not ended (run mode {run['mode']}, status "
            f"{status.get(second.agency)}): a source whose service has no 'changed since' must "
            "not be incremental (no cursor_after(), incremental = False), and its sync must "
            "fetch every page"
        )

    def _leave_out_one_worker(self, source: Source, registry: Any) -> list[str]:
        """Make `source` leave out the first row naming a worker the registry holds active
        for its agency; the list gets that NIK."""
        dropped: list[str] = []

        def active(nik: object) -> bool:
            digits = "".join(ch for ch in str(nik or "") if ch.isdigit())
            if dropped or len(digits) != 16:
                return False
            worker = registry.find_worker(digits) or {}
            if any(e["agency"] == source.agency and e["status"] == "active"
                   for e in worker.get("enrollments", [])):  # fmt: skip
                dropped.append(digits)
                return True
            return False

        if isinstance(source, SoapSource):
            map_row = source.map_row

            def leave_out(item: Any, row: int) -> dict[str, str | None] | None:
                values = map_row(item, row)
                return None if values is not None and active(values.get("nik")) else values

            source.map_row = leave_out  # type: ignore[method-assign]
        else:
            transform = source.transform

            def leave_out_raw(raw: RawRow) -> RawRow | None:
                return None if active(raw.values.get("nik")) else transform(raw)

            source.transform = leave_out_raw  # type: ignore[method-assign]
        return dropped
