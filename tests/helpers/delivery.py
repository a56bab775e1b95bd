"""The delivery core's test double of BPJS, kept in memory, and the steps the delivery tests
share (a roster with work units, an employer, a delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from gateway import Ack, AckPage, DeliveryError, Destination, OutgoingMutation
from gateway.delivery.employers import register_employer
from gateway.delivery.outbox import deliver
from gateway.domain.agencies import resolve_agency
from gateway.roster.endings import NO_LIMIT
from gateway.roster.submit import submit_roster
from gateway.store.mutations import list_mutations
from tests.helpers.roster import HEADER, worker_row, write_roster

AGENCY = "15.05"


class Counterpart(Destination):
    """Plays BPJS: accepts each key once (a repeated key answers as before), gives one KPJ per
    NIK, rejects the NIKs it is told to, and fails the next sends it is told to."""

    id = "double"
    title = "In-memory counterpart"
    seen: dict[str, OutgoingMutation]
    kpjs: dict[str, str]
    sends: list[list[str]]
    reject: set[str]
    failures: list[DeliveryError]

    def send(self, mutations: Sequence[OutgoingMutation]) -> Sequence[Ack]:
        if self.failures:
            raise self.failures.pop(0)
        self.sends.append([m.key for m in mutations])
        acks = []
        for m in mutations:
            self.seen.setdefault(m.key, m)
            if m.nik in self.reject:
                acks.append(Ack(m.key, "rejected", reason_code="NIK_UNKNOWN",
                                reason_id="NIK tidak dikenal Dukcapil",
                                reason_en="NIK unknown to Dukcapil"))  # fmt: skip
                continue
            kpj = self.kpjs.setdefault(m.nik, f"{len(self.kpjs) + 1:011d}")
            acks.append(Ack(m.key, "accepted", kpj=kpj))
        return acks

    def poll(self, cursor: str | None) -> AckPage:
        return AckPage([], cursor)


def roster(gw, tmp_path: Path, rows: list[list[str]], name: str = "r.csv") -> None:
    header = [*HEADER, "Unit Kerja"]
    path = write_roster(tmp_path / name, rows, header)
    submit_roster(gw.registry, path, agency=resolve_agency(AGENCY), today=date(2026, 12, 2),
                  trigger="cli", endings=NO_LIMIT)  # fmt: skip


def row(i: int, unit: str = "Dinas Kesehatan", **kw) -> list[str]:
    return [*worker_row(i, **kw), unit]


def employer(gw, **kw) -> int:
    values = {"agency": AGENCY, "kind": "npp", "npp": "12345678", "division": "001",
              "segment": None, "work_unit": None, "destination": "double"} | kw  # fmt: skip
    return register_employer(gw, **values).id


def run(gw, dest: Counterpart):
    return deliver(gw, "double", destination=dest, answer_wait=0, sleep=lambda s: None)


def by_state(gw) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in list_mutations(gw.engine, limit=10_000):
        out[m["state"]] = out.get(m["state"], 0) + 1
    return out
