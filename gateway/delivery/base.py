"""The Destination class a destination plugin subclasses, and the values it trades with the
outbox (docs/writing-a-plugin.md, "A destination").

A destination is told mutations (`OutgoingMutation`: one new worker, wage change, identity
correction or ending, for one employer) and answers with acknowledgements (`Ack`): accepted
with the membership number (KPJ), rejected with a reason, or not yet known. It never touches
the registry: the outbox (gateway/delivery/outbox.py) marks what was sent before sending, keeps
every answer, and retries with the same idempotency key, so the far end sees each mutation
once however often the gateway is killed.

Two channels:

- **push** (`channel = "push"`): `send()` hands a batch to the counterpart (an HTTP API) and
  returns the answers it already has; `poll()` pages through answers given later.
- **file** (`channel = "file"`): `write_files()` writes the files staff upload by hand (SIPP);
  `read_answers()` reads the answer file BPJS gives back. A broken answer file raises
  `AnswerFileError` with every bad line: nothing of it is applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from gateway.config import ConfigError, resolve_secret
from gateway.domain.records import Problem

KINDS = ("new", "wage", "identity", "ended")  # what BPJS is told, in the order it must be
OUTCOMES = ("accepted", "rejected", "pending")


@dataclass(frozen=True)
class Employer:
    """How BPJS knows the employer a mutation is for (docs/domain.md §7)."""

    id: int
    agency: str
    kind: str  # "npp" (an employer registration) | "wadah" (a collective registration)
    npp: str  # 8 digits
    division: str | None = None  # the SIPP division (divisi) code, e.g. "001"
    segment: str | None = None  # wadah segment: SG, SD, SA, SL
    name: str | None = None


@dataclass(frozen=True)
class OutgoingMutation:
    """One thing BPJS must be told about one worker, with the identity it needs in clear.

    Built by the outbox just before sending (NIK and name decrypted then, never stored in
    clear); `key` is the idempotency key the counterpart deduplicates on."""

    key: str
    kind: str  # one of KINDS
    month: str  # the reporting month, "2026-12"
    employer: Employer
    nik: str
    name: str
    birth_date: date
    gender: str  # "L" | "P"
    wage: int  # whole Rupiah a month
    start_date: date
    end_date: date | None = None
    end_reason: str | None = None  # for kind "ended": a code of gateway.delivery.mutations
    category: str | None = None
    position: str | None = None
    work_unit: str | None = None
    kpj: str | None = None  # the membership number when BPJS already gave one
    agency: str = ""


@dataclass(frozen=True)
class Ack:
    """The counterpart's answer about one mutation, by its idempotency key."""

    key: str
    outcome: str  # one of OUTCOMES
    kpj: str | None = None  # with "accepted": the 11-digit membership number
    reason_code: str | None = None  # with "rejected": the counterpart's code
    reason_id: str | None = None  # what to do, Bahasa Indonesia
    reason_en: str | None = None  # the same in English
    row: int | None = None  # the answer file's line, for file destinations


@dataclass
class AckPage:
    """One page of later answers (`poll`): `cursor` is where the next page starts."""

    acks: list[Ack]
    cursor: str | None
    more: bool = False


class DeliveryError(Exception):
    """Sending failed. `retryable`: the same batch may be sent again later (a dropped
    connection, a 5xx, a 429); otherwise the counterpart refused the request itself (a 4xx:
    a bad signature, a malformed batch), which needs a person. `retry_after`: seconds the
    counterpart asked to wait."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None,
                 status: int | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class AnswerFileError(Exception):
    """An answer file that cannot be applied as a whole: every problem, by line."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class Destination:
    """Subclass this, set `id`, `title` and `channel`, and implement the channel's methods.

    The gateway makes one instance per delivery with the settings of
    `[destinations.<id>]` in config/destinations.toml; `self.secret(name)` reads a setting
    that may be a `$env:NAME` / `$file:/path` reference."""

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    channel: ClassVar[str] = "push"  # "push" | "file"
    # How many mutations one `send` carries at most.
    batch_size: ClassVar[int] = 500

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = dict(settings or {})
        self.plugin: str | None = None

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)

    def secret(self, name: str) -> str:
        value = resolve_secret(self.settings.get(name))
        if not value:
            raise ConfigError(f"destinations.{self.id}: setting {name!r} is missing")
        return value

    # -- push -------------------------------------------------------------------------------
    def send(self, mutations: Sequence[OutgoingMutation]) -> Sequence[Ack]:
        """Hand a batch over; return the answers known now (others come through `poll`).
        Raise DeliveryError when the batch did not get through."""
        raise NotImplementedError(f"{type(self).__name__} is not a push destination")

    def poll(self, cursor: str | None) -> AckPage:
        """Answers given since `cursor` (None: from the beginning)."""
        return AckPage([], cursor)

    # -- file -------------------------------------------------------------------------------
    def write_files(
        self, employer: Employer, month: str, mutations: Sequence[OutgoingMutation], folder: Path
    ) -> list[Path]:
        """Write the upload files for one employer and month into `folder`; return them."""
        raise NotImplementedError(f"{type(self).__name__} is not a file destination")

    def read_answers(self, path: Path, mutations: Sequence[OutgoingMutation] = ()) -> list[Ack]:
        """Read BPJS's answer file for a batch of `mutations` (matched by NIK in memory: the
        file names people, the outbox knows them by key). Raise AnswerFileError naming every
        bad line; nothing of a refused file is applied."""
        raise NotImplementedError(f"{type(self).__name__} is not a file destination")


@dataclass
class DestinationEntry:
    cls: type[Destination]
    plugin: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.cls.id

    def create(self) -> Destination:
        dest = self.cls(self.settings)
        dest.plugin = self.plugin
        return dest
