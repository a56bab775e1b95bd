"""The SOAP source kit: a hardened zeep client, paging, WS-Security, the incremental cursor.

* **WSDL from the package.** The WSDL ships inside the plugin (`SoapSource.wsdl`) and is read
  from disk; the service address comes from the source's `url` setting. Importing a plugin or
  building its client never touches the network.
* **Hardened XML.** zeep parses with lxml: strict, no DTD, no entities, no external
  resources, no "huge tree" (a billion-laughs or an XXE reply fails the run).
* **Timeouts and retries.** A requests session with (connect, read) timeouts; each page is
  retried with exponential backoff on transport failures only (`gateway.sources.transport`).
* **WS-Security.** UsernameToken with the password from a `$env:NAME` / `$file:/path`
  reference: the configuration file never holds the secret itself.
* **All or nothing.** Every page is fetched into an encrypted spool before the registry's
  transaction starts (`gateway.sources.spool`); a failure on any page fails the run, applies
  nothing and keeps the cursor. The run's error names the page and the HTTP status.
* **Snapshot unless declared incremental.** The cursor is sent (and `cursor_after` asked)
  only when the source declares `incremental = True`: a service with no "changed since" is
  fetched whole every time, and the workers it no longer lists are ended.
* **SOAP 1.1 faults.** A SOAP 1.1 service answers a fault with HTTP 500 and a SOAP body:
  that is the service's considered answer, never retried; an HTTP 5xx whose body is not
  SOAP (a proxy's error page) is a transport failure, retried (docs/writing-a-plugin.md).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.config import ConfigError
from gateway.domain.records import RawRow
from gateway.sources.fetch import Fetch
from gateway.sources.spool import Spool, SpoolReader
from gateway.sources.transport import (
    TransportFailure,
    describe_error,
    is_transient,
    make_session,
    with_retries,
)

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from zeep import Client

    from gateway.sources.base import SoapSource


class SoapFetchError(Exception):
    """The feed answered something the source cannot page through (e.g. no end)."""


class PageFailed(SoapFetchError):
    """Page `page` could not be fetched or read; `status` is the HTTP status of its last
    answer, when there was one. Its text is what the run's record says."""

    def __init__(self, page: int, cause: BaseException, *, status: int | None, tries: int):
        self.page, self.http_status = page, status  # not `status`: describe_error would repeat it
        if _is_fault(cause):
            what = "SOAP Fault, tidak diulang / not retried"
        elif tries > 1:
            what = f"{tries} kali dicoba / tried {tries} times"
        else:
            what = "tidak diulang / not retried"
        http = f"HTTP {status}" if status is not None else "tanpa jawaban HTTP / no HTTP answer"
        super().__init__(
            f"halaman {page} gagal / page {page} failed ({http}; {what}): "
            f"{describe_error(cause)}"
        )


def _is_fault(exc: BaseException) -> bool:
    from zeep.exceptions import Fault

    return isinstance(exc, Fault)


def hardened_settings() -> Any:
    from zeep import Settings

    return Settings(
        strict=True,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


def make_client(
    wsdl: str | Path,
    *,
    url: str,
    binding: str | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout: float = 60,
    connect_timeout: float = 10,
) -> tuple[Client, Any]:
    """(client, service proxy bound to `url`) for a packaged WSDL file.

    The WSDL must be self-contained (inline schema): with forbid_external an xsd:import of an
    http(s) location is refused rather than fetched.
    """
    from zeep import Client
    from zeep.transports import Transport
    from zeep.wsse.username import UsernameToken

    class CheckedTransport(Transport):
        """An HTTP error whose body is no SOAP message (a proxy's or a crashed server's error
        page) is a transport failure, retried; zeep would call it an "unknown fault"."""

        last_status: int | None = None  # of the latest answer: a failed page's record names it

        def post(self, address: str, message: Any, headers: Any) -> Any:
            self.last_status = None
            response = super().post(address, message, headers)
            self.last_status = response.status_code
            kind = response.headers.get("Content-Type", "").lower()
            if response.status_code >= 400 and "xml" not in kind:
                raise TransportFailure(
                    f"HTTP {response.status_code} ({kind or 'no content type'})",
                    status=response.status_code,
                )
            return response

    session = make_session()
    transport = CheckedTransport(
        session=session, timeout=connect_timeout, operation_timeout=(connect_timeout, timeout)
    )
    wsse = UsernameToken(username, password) if username else None
    client = Client(str(wsdl), transport=transport, settings=hardened_settings(), wsse=wsse)
    if binding is None:
        bindings = list(client.wsdl.bindings)
        if not bindings:
            raise ConfigError(f"WSDL {wsdl} declares no binding")
        binding = bindings[0]
    return client, client.create_service(binding, url)


def prepare_soap(source: SoapSource, cursor: str | None) -> Fetch:
    """Plan a sync: incremental from the saved cursor, or a full fetch without one."""
    if not source.incremental:
        cursor = None  # no "changed since": a saved cursor (an older release's) is not sent
        from gateway.sources.base import SoapSource

        if type(source).cursor_after is not SoapSource.cursor_after:
            # A plugin written before `incremental` existed: it used to sync incrementally.
            log.warning(
                "source %s defines cursor_after() but not incremental = True: every sync is "
                "a full snapshot (docs/writing-a-plugin.md) / setiap sinkronisasi penuh",
                source.id,
            )
    incremental = cursor is not None or not source.snapshot
    fetch = Fetch(open=_unopened, mode="incremental" if incremental else "snapshot")

    def open_rows() -> SpoolReader:
        return SpoolReader(
            lambda spool: fetch_all(source, cursor, spool, fetch),
            columns=dict(source.columns),
            notices=lambda: source.extra_notices,
        )

    fetch.open = open_rows
    fetch.filename = f"{source.operation}@{source.setting('url', '?')}"
    return fetch


def fetch_all(source: SoapSource, cursor: str | None, spool: Spool, fetch: Fetch) -> None:
    """Every page of the operation into `spool`; sets `fetch.cursor_after`."""
    wsdl = source.resource(source.wsdl)
    with _as_path(wsdl) as wsdl_path:
        client, service = make_client(
            wsdl_path,
            url=source.setting("url"),
            binding=source.binding,
            username=source.setting("username", None),
            password=source.setting("password", None),
            timeout=float(source.setting("timeout")),
            connect_timeout=float(source.setting("connect_timeout")),
        )
    operation = getattr(service, source.operation)
    retries, backoff = int(source.setting("retries")), float(source.setting("backoff"))
    ask = _request_of(source)
    started = time.monotonic()
    row = 0
    page = 1
    previous: Any = None
    try:
        while True:
            args = ask(page, cursor, previous)
            with unreadable_values() as unreadable:
                try:
                    response = with_retries(
                        lambda args=args: operation(**args),
                        retries=retries,
                        backoff=backoff,
                        what=f"{source.id} page {page}",
                    )
                except Exception as exc:
                    tries = 1 + retries if is_transient(exc) else 1
                    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
                    status = status or getattr(client.transport, "last_status", None)
                    raise PageFailed(page, exc, status=status, tries=tries) from exc
            if unreadable:
                raise SoapFetchError(
                    f"page {page}: the service sent a value its WSDL type does not allow "
                    f"({unreadable[0]}) / layanan mengirim nilai yang tidak sesuai tipe WSDL"
                )
            if page == 1 and source.incremental:
                # The cursor is taken from the first page: changes made while we page are
                # seen again next time (applying an unchanged record again changes nothing).
                fetch.cursor_after = source.cursor_after(response, cursor)
            count = 0
            try:
                for item in source.items(response):
                    count += 1
                    row += 1
                    values = source.map_row(item, row)
                    if values is None:
                        continue
                    texts = cell_texts(values, row)
                    if not source.has_left(texts, row, mode=fetch.mode):
                        spool.append(RawRow(row=row, values=texts))
                more = source.more_pages(response, page, count)
            except SoapFetchError:
                raise
            except Exception as exc:  # the plugin's own code on this page's answer
                raise SoapFetchError(f"page {page}: {type(exc).__name__}: {exc}") from exc
            if not more:
                break
            previous = response
            page += 1
            if page > source.max_pages:
                raise SoapFetchError(
                    f"more than {source.max_pages} pages: the service never reports the last "
                    "page / layanan tidak pernah menandai halaman terakhir"
                )
    finally:
        client.transport.session.close()
    # What the receipt states: the SHA-256 of the canonical rows fetched (spool.py).
    fetch.sha256 = spool.sha256
    fetch.stats.update(pages=page, records=row, seconds=round(time.monotonic() - started, 3))


def _request_of(source: SoapSource) -> Any:
    """`source.request` as (page, cursor, previous): a `request(page, cursor)` written before
    token paging was supported is called without the previous response."""
    try:
        takes_previous = "previous" in inspect.signature(source.request).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin or C callable
        takes_previous = False
    if takes_previous:
        return lambda page, cursor, previous: source.request(page, cursor, previous=previous)
    return lambda page, cursor, previous: source.request(page, cursor)


class _Unreadable(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.found.append(f"{type(exc).__name__}: {exc}" if exc else record.getMessage())


@contextmanager
def unreadable_values() -> Iterator[list[str]]:
    """What zeep could not read while parsing a response. zeep logs a value that does not
    parse as its XSD type (an xsd:dateTime "yesterday") with a traceback on stderr and hands
    over None, even in strict mode: the value would be lost without a word, or fail later
    as "'NoneType' object has no attribute 'isoformat'". Collected here, so the run fails
    naming it, and kept off stderr."""
    handler = _Unreadable()
    loggers = [
        logging.getLogger(n) for n in ("zeep.xsd.types.simple", "zeep.xsd.elements.attribute")
    ]
    saved = [(lg, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    try:
        yield handler.found
    finally:
        for lg, propagate in saved:
            lg.removeHandler(handler)
            lg.propagate = propagate


def cell_texts(values: object, row: int) -> dict[str, str | None]:
    """`map_row`'s answer as the texts a roster cell would hold. A typed WSDL hands over
    numbers and dates (xsd:decimal, xsd:date): they are written as a spreadsheet would
    write them; anything else is the plugin's mistake, named here rather than surfacing as
    "'int' object has no attribute 'strip'" deep in validation."""
    if not isinstance(values, dict):
        raise TypeError(
            f"map_row must return a dict of field -> text (or None to skip the item), not "
            f"{type(values).__name__} (item {row})"
        )
    out: dict[str, str | None] = {}
    for field, value in values.items():
        if value is None or isinstance(value, str):
            out[field] = value
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            out[field] = str(value)
        elif isinstance(value, date):  # a datetime too: "1990-08-17T00:00:00" reads as a date
            out[field] = value.isoformat()
        else:
            raise TypeError(
                f"map_row returned {type(value).__name__} for {field!r} (item {row}): give "
                "text, a number, a date or None"
            )
    return out


def _unopened() -> SpoolReader:
    raise RuntimeError("fetch not planned")


class _as_path:
    """A packaged resource as a real file path (zeep wants a path or URL)."""

    def __init__(self, resource: Any) -> None:
        from importlib.resources import as_file

        self._cm = as_file(resource)

    def __enter__(self) -> Path:
        return self._cm.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)
