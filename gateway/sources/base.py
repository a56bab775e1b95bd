"""Declarative source classes: what a plugin author subclasses (docs/design.md §3).

    class KemendesPendamping(CsvSource):
        id = "kemendes-pendamping"
        agency = "kemendes"
        aliases = {"nik": ("NIK Pendamping",), "wage": ("Honorarium/Bulan",)}

A source says *where* rows come from and *how its fields are named*; it never validates and
never writes. It yields `RawRow`s (canonical field -> cell text) and the gateway's shared
validation turns them into `EnrollmentRecord`s, so every feed gets the same coded problems
(the "one way through" of docs/design.md §1). The machinery lives in `gateway.sources.csv` and
`gateway.sources.soap`; instances are made per sync with settings from config/sources.toml.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, ClassVar

from gateway.config import ConfigError, resolve_secret
from gateway.domain.records import Message, Problem, RawRow, Severity, make_problem
from gateway.roster.read.headers import REQUIRED_FIELDS

# A source's plan for one sync; its own module, so the CSV and SOAP kits (which base.py
# imports when a source prepares) can build one without importing base.py back.
from gateway.sources.fetch import Fetch

_MISSING: Any = object()

SOURCE_MESSAGES: dict[str, Message] = {
    "row_skipped": Message(
        Severity.WARNING,
        "Baris dilewati oleh sumber {source}: {reason_id}.",
        "Row skipped by source {source}: {reason_en}.",
    ),
    "status_unknown": Message(
        Severity.WARNING,
        "Status '{value}' di kolom {flag_field} tidak dikenal oleh sumber {source}: baris tetap "
        "diproses sebagai pegawai aktif; periksa nilai status yang dikirim instansi.",
        "Status '{value}' in field {flag_field} is unknown to source {source}: the row is kept as "
        "an active worker; check the status values the agency sends.",
    ),
}


@dataclass(frozen=True)
class StatusFlag:
    """Which field of a row says whether the worker still works there, and which of its
    values mean "left" (docs/writing-a-plugin.md, "Status flags"):

        status = StatusFlag("status", left=("NONAKTIF", "KELUAR"))
        status = StatusFlag("status_pegawai", active=("AKTIF", "1"))

    A row whose worker left is skipped with a warning naming the value, so a full sync (a
    snapshot) ends that worker like any other who is absent. With only `active`, every
    other value (an empty one too) means left; with only `left`, every other value means
    active; with both, a value in neither keeps the row and warns (`status_unknown`).
    Values are compared trimmed and case-insensitively.
    """

    field: str
    left: tuple[str, ...] = ()
    active: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.left and not self.active:
            raise ValueError("StatusFlag needs the values that mean left, or active, or both")

    def has_left(self, value: object) -> bool | None:
        """True: the worker left; False: active; None: a value the flag does not know."""
        text = "" if value is None else str(value).strip().casefold()
        if self.left and text in {v.strip().casefold() for v in self.left}:
            return True
        if self.active:
            if text in {v.strip().casefold() for v in self.active}:
                return False
            return None if self.left else True
        return False


class Source:
    """Base of every source. Subclass `CsvSource` or `SoapSource`, not this."""

    id: ClassVar[str] = ""  # unique, lower-case, e.g. "kemenkes-ppnpn"
    agency: ClassVar[str] = ""  # ministry code or Kemendagri region code that feeds it
    # roster: enrollments | budget: budget allocations | bpjs_members, bpjs_bills,
    # bpjs_payments: BPJS's facts for reconciliation (gateway/reconcile/feeds.py)
    kind: ClassVar[str] = "roster"
    title: ClassVar[str] = ""  # one line for `jamsos sources`
    schedule: ClassVar[str | None] = None  # cron expression, read by the scheduler (Airflow)
    snapshot: ClassVar[bool] = True  # a complete fetch names every worker: the absent end
    status: ClassVar[StatusFlag | None] = None  # the field saying a worker left, if any
    categories: ClassVar[tuple[str, ...]] = ()  # categories this source may send; () any
    aliases: ClassVar[Mapping[str, Iterable[str]]] = {}  # field -> the feed's column names
    required: ClassVar[tuple[str, ...]] = REQUIRED_FIELDS
    defaults: ClassVar[Mapping[str, Any]] = {}  # settings used when sources.toml says nothing
    samples: ClassVar[str] = "samples"  # folder in the plugin package: sample input, for tests

    def __init__(
        self, settings: Mapping[str, Any] | None = None, *, source_id: str | None = None
    ) -> None:
        self.settings: dict[str, Any] = {**self.defaults, **(settings or {})}
        # An instance may carry another id and agency: one regional-roster class serves
        # every regency, each configured as its own source.
        self.id: str = source_id or type(self).id  # type: ignore[misc]
        self.agency: str = str(self.settings.get("agency") or type(self).agency)  # type: ignore[misc]
        self.plugin: str | None = None  # set by the catalog: which plugin registered the class
        self.extra_notices: list[Problem] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} agency={self.agency}>"

    # -- for subclasses ----------------------------------------------------------------------
    def prepare(self, cursor: str | None) -> Fetch:
        """Plan one sync from the saved cursor (None: first sync or a full one)."""
        raise NotImplementedError

    def transform(self, raw: RawRow) -> RawRow | None:
        """Adjust one row before validation (derive a field, combine columns); None skips it
        (say why with `self.skip(raw.row, ...)`). Default: the row as read."""
        return raw

    # -- helpers -----------------------------------------------------------------------------
    def setting(self, name: str, default: Any = _MISSING) -> Any:
        """A setting, with `$env:NAME` / `$file:/path` references resolved (secrets)."""
        if name not in self.settings or self.settings[name] is None:
            if default is _MISSING:
                raise ConfigError(
                    f"source {self.id}: setting '{name}' is missing in config/sources.toml "
                    f"[sources.{self.id}] / pengaturan '{name}' belum diisi"
                )
            return default
        value = self.settings[name]
        return resolve_secret(value) if isinstance(value, str) else value

    def skip(self, row: int, reason_id: str, reason_en: str) -> None:
        """Record that row `row` was skipped on purpose (a warning in the run's report)."""
        self.extra_notices.append(
            make_problem(
                SOURCE_MESSAGES,
                "row_skipped",
                row,
                None,
                source=self.id,
                reason_id=reason_id,
                reason_en=reason_en,
            )
        )

    def has_left(self, values: Mapping[str, Any], row: int, *, mode: str) -> bool:
        """Whether the row's `status` flag says the worker left: then the row is skipped with
        a warning (a snapshot ends that worker; an incremental sync cannot, and says so)."""
        flag = self.status
        if flag is None:
            return False
        value = values.get(flag.field)
        left = flag.has_left(value)
        if left is None:
            notice = make_problem(SOURCE_MESSAGES, "status_unknown", row, None,
                                  source=self.id, flag_field=flag.field,
                                  value=str(value)[:40])
            self.extra_notices.append(notice)
            return False
        if left:
            if mode == "snapshot":
                why = ("pegawai keluar, diakhiri karena tidak ada di data lengkap ini",
                       "the worker left, ended as absent from this full fetch")  # fmt: skip
            else:
                why = ("pegawai keluar, diakhiri pada sinkronisasi penuh berikutnya",
                       "the worker left, ended by the next full sync")  # fmt: skip
            self.skip(row, f"status {value} ({why[0]})", f"status {value} ({why[1]})")
        return left

    @classmethod
    def resource(cls, name: str) -> Traversable:
        """A file shipped inside the plugin's package (WSDL, samples): no network, no cwd."""
        package = cls.__module__.rpartition(".")[0] if not _is_package(cls) else cls.__module__
        return files(package) / name


def _is_package(cls: type) -> bool:
    return hasattr(sys.modules.get(cls.__module__), "__path__")


class CsvSource(Source):
    """Rows from a CSV or XLSX roster: a file (`path`), the newest file of a drop folder
    processed once (`folder`, `pattern`), or an HTTP(S) URL (`url`).

    Reuses the upload reader (`gateway.roster.read.reader`): streaming, encodings, totals rows,
    header spellings. `aliases` adds the feed's own column names (a `status` flag's field
    among them: `aliases = {"status": ("Status Pegawai",)}`).
    """

    defaults: ClassVar[Mapping[str, Any]] = {
        "pattern": "*.csv,*.xlsx",
        "timeout": 60,
        "connect_timeout": 10,
        "retries": 3,
        "backoff": 1.0,
        "max_mb": 512,
    }

    def prepare(self, cursor: str | None) -> Fetch:
        from gateway.sources.csv import prepare_csv

        return prepare_csv(self, cursor)


class SoapSource(Source):
    """Rows from a paged SOAP operation, fetched with zeep (see `gateway.sources.soap`).

    Declare `wsdl` (a file in your package), `operation`, and override `request()` (the
    operation's arguments for one page; `previous` is the page before's response, for a
    next-page token), `items()` (the employees in a response) and `map_row()` (one employee
    -> canonical field texts). A service that answers "changed since" declares
    `incremental = True` and returns from `cursor_after()` the value to send next time; with a
    saved cursor the run is then incremental. Without it every sync is a full snapshot and
    ends the workers it no longer lists. A `status` flag (`StatusFlag`) skips the rows of
    workers who left. Settings: url, username, password (`$env:`/`$file:` reference),
    timeout, connect_timeout, retries, backoff, page_size.
    """

    wsdl: ClassVar[str] = ""
    operation: ClassVar[str] = ""
    binding: ClassVar[str | None] = None  # "{namespace}Name"; default: the WSDL's first binding
    columns: ClassVar[Mapping[str, str]] = {}  # feed element -> canonical field (for reports)
    page_size: ClassVar[int] = 500
    # The service answers "changed since <cursor>" (`cursor_after`): after the first sync,
    # syncs fetch only changes and end nobody. False: every sync is a full snapshot.
    incremental: ClassVar[bool] = False
    max_pages: ClassVar[int] = 100_000  # a server that never says "last page" is a fault
    defaults: ClassVar[Mapping[str, Any]] = {
        "timeout": 60,
        "connect_timeout": 10,
        "retries": 3,
        "backoff": 1.0,
    }

    def request(self, page: int, cursor: str | None, previous: Any = None) -> dict[str, Any]:
        """The operation's keyword arguments for page `page` (1-based). `previous` is the
        response to page `page - 1` (None for page 1): a service that pages by token takes
        its next-page token from it. `cursor` is None unless the source is incremental."""
        return {"page": page, "pageSize": self.page_size}

    def items(self, response: Any) -> Iterable[Any]:
        """The records of one page's response."""
        return response or []

    def more_pages(self, response: Any, page: int, count: int) -> bool:
        """Whether another page follows. Default: a full page means maybe more."""
        return count >= self.page_size

    def cursor_after(self, first_response: Any, cursor: str | None) -> str | None:
        """The cursor to save after a successful run (an `incremental` source's "changed
        since" for next time, e.g. the server's time on page 1). Only called when
        `incremental` is True; default: none (every sync full)."""
        return None

    def map_row(self, item: Any, row: int) -> dict[str, str | None] | None:
        """One record of the feed as canonical field texts; None skips it (`self.skip`)."""
        raise NotImplementedError

    def prepare(self, cursor: str | None) -> Fetch:
        from gateway.sources.soap import prepare_soap

        return prepare_soap(self, cursor)
