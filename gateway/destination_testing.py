"""The contract kit for destination plugins: one class in a plugin's tests gives it the checks.

    from gateway.testing import DestinationContract
    from jamsos_bpjs_h2h import HostToHost

    class TestContract(DestinationContract):
        destination_class = HostToHost

        @contextmanager
        def counterpart(self):            # push destinations: start the loopback service
            with LoopbackBpjs() as service:
                yield {"url": service.url, "consumer_id": "kit", "secret": "s3cret"}

The checks run the real gateway on a throwaway SQLite registry with a generated roster of
`workers` people, mapped to one employer served by the destination under test:

* the plugin loads as the gateway loads it and `register_destinations` returns the class;
  the class declares an id, a channel and a batch size;
* push: a delivery answers every mutation (accepted with an 11-digit KPJ, or rejected with a
  reason in both languages), and a second delivery sends nothing again;
* push: the same batch sent twice is answered the same (the idempotency key is honoured:
  the same KPJ, nothing applied twice);
* file: `write_files` writes files for the batch and `read_answers` of a broken file raises
  AnswerFileError naming its lines, never another exception.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gateway.delivery.base import AnswerFileError, Destination

__all__ = ["DestinationContract"]

_KPJ = re.compile(r"\d{11}")


class DestinationContract:
    """Base class of a destination plugin's contract tests; set `destination_class`, and for
    a push destination override `counterpart()` to start a service and yield its settings."""

    destination_class: ClassVar[type[Destination]]
    settings: ClassVar[dict[str, Any]] = {}
    workers: ClassVar[int] = 12
    npp: ClassVar[str] = "12345678"  # an employer the counterpart knows
    agency: ClassVar[str] = "15.05"

    @contextmanager
    def counterpart(self) -> Iterator[dict[str, Any]]:
        """Settings for the destination while its counterpart runs (default: `settings`)."""
        yield dict(self.settings)

    # -- fixtures -------------------------------------------------------------------------
    @pytest.fixture
    def plugin(self) -> Any:
        module = sys.modules[self.destination_class.__module__]
        package = sys.modules[self.destination_class.__module__.split(".")[0]]
        return package if hasattr(package, "register_destinations") else module

    @pytest.fixture
    def gateway(self, tmp_path: Path, plugin: Any) -> Iterator[Any]:
        from gateway.app import create_app
        from gateway.delivery.employers import register_employer
        from gateway.demo.rosters import generate_roster, write_csv
        from gateway.domain.agencies import resolve_agency
        from gateway.roster.endings import NO_LIMIT
        from gateway.roster.submit import submit_roster
        from gateway.sources.loader import make_plugin_manager

        with self.counterpart() as settings:
            app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "CONFIG_FILE": None})
            gw = app.extensions["jamsos"]
            gw.__dict__["plugins"] = make_plugin_manager(
                load_entry_points=False, plugins={"under-test": plugin})
            gw.__dict__["destination_settings"] = settings
            path = tmp_path / "roster.csv"
            write_csv(path, generate_roster(self.workers, regency=self.agency, seed=7))
            submit_roster(gw.registry, path, agency=resolve_agency(self.agency),
                          today=date.today(), trigger="test", endings=NO_LIMIT)  # fmt: skip
            register_employer(gw, agency=self.agency, kind="npp", npp=self.npp, division="001",
                              segment=None, work_unit=None,
                              destination=self.destination_class.id)  # fmt: skip
            yield gw
            gw.engine.dispose()

    def make(self, gw: Any) -> Destination:
        dest = self.destination_class(gw.__dict__["destination_settings"])
        dest.plugin = "under-test"
        return dest

    # -- the checks -----------------------------------------------------------------------
    def test_registers_its_destination(self, plugin: Any) -> None:
        from gateway.delivery.catalog import collect_destinations
        from gateway.sources.loader import make_plugin_manager

        pm = make_plugin_manager(load_entry_points=False, plugins={"under-test": plugin})
        assert not pm.load_errors, pm.load_errors
        found = collect_destinations(pm)
        assert found.get(self.destination_class.id, None) is not None, (
            f"register_destinations does not return {self.destination_class.__name__}")
        assert found[self.destination_class.id].cls is self.destination_class

    def test_declares_the_contract(self) -> None:
        cls = self.destination_class
        assert cls.id and cls.id == cls.id.strip().lower() and " " not in cls.id
        assert cls.title, "a title people read in `jamsos plugins list`"
        assert cls.channel in ("push", "file")
        assert cls.batch_size >= 1

    def test_every_mutation_is_answered_and_none_sent_twice(self, gateway: Any) -> None:
        from gateway.delivery.outbox import deliver
        from gateway.store.mutations import list_mutations

        if self.destination_class.channel != "push":
            pytest.skip("a file destination's answers come from staff (see the file checks)")
        first = deliver(gateway, self.destination_class.id, destination=self.make(gateway),
                        answer_wait=30)  # fmt: skip
        assert first.status == "succeeded", first.error
        rows = list_mutations(gateway.engine, limit=10_000)
        assert len(rows) == self.workers
        for m in rows:
            assert m["state"] in ("accepted", "rejected"), f"mutation {m['id']}: {m['state']}"
            if m["state"] == "accepted":
                assert m["kpj"] and _KPJ.fullmatch(m["kpj"]), f"KPJ {m['kpj']!r} is not 11 digits"
            else:
                assert m["reason_id"] and m["reason_en"], "a rejection says why, in both languages"
        again = deliver(gateway, self.destination_class.id, destination=self.make(gateway),
                        answer_wait=0)  # fmt: skip
        assert again.counts.get("sent", 0) == 0

    def test_the_same_batch_twice_is_answered_the_same(self, gateway: Any) -> None:
        from gateway.delivery.outbox import derive_all, employer_rules, outgoing
        from gateway.store.outbox import due_mutations

        if self.destination_class.channel != "push":
            pytest.skip("push destinations only")
        derive_all(gateway, [self.agency])
        rule = employer_rules(gateway.engine)[0]
        rows = due_mutations(gateway.engine, rule.id, _far_future(), 5)
        batch = [outgoing(gateway, r, rule, None) for r in rows]
        dest = self.make(gateway)
        answers = [_settled(dest, batch) for _ in range(2)]
        assert answers[0] == answers[1], "a repeated key must get the same answer"

    def test_writes_files_and_refuses_a_broken_answer_file(self, gateway: Any,
                                                           tmp_path: Path) -> None:  # fmt: skip
        from gateway.delivery.outbox import derive_all, employer_rules, outgoing
        from gateway.store.outbox import due_mutations

        if self.destination_class.channel != "file":
            pytest.skip("file destinations only")
        derive_all(gateway, [self.agency])
        rule = employer_rules(gateway.engine)[0]
        rows = due_mutations(gateway.engine, rule.id, _far_future(), 10_000)
        batch = [outgoing(gateway, r, rule, None) for r in rows]
        files = self.make(gateway).write_files(rule, batch[0].month, batch, tmp_path)
        assert files and all(p.is_file() and p.stat().st_size > 0 for p in files)
        broken = tmp_path / "answers.csv"
        broken.write_text("NIK;KPJ\n12;abc\n", encoding="utf-8")
        with pytest.raises(AnswerFileError) as refused:
            self.make(gateway).read_answers(broken)
        assert refused.value.problems, "an answer file refused names its bad lines"


def _far_future() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=1)


def _settled(dest: Destination, batch: list) -> dict[str, tuple]:
    """The answers to a batch, by key, once the counterpart has given them all."""
    import time

    found = {a.key: (a.outcome, a.kpj, a.reason_code) for a in dest.send(batch)}
    cursor, deadline = None, time.monotonic() + 30
    while any(found.get(m.key, ("pending",))[0] == "pending" for m in batch):
        page = dest.poll(cursor)
        cursor = page.cursor
        for a in page.acks:
            if a.key in {m.key for m in batch} and a.outcome != "pending":
                found[a.key] = (a.outcome, a.kpj, a.reason_code)
        if time.monotonic() > deadline:
            raise AssertionError("the counterpart did not answer every mutation within 30 s")
        if not page.more:
            time.sleep(0.2)
    return found
