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
  nothing and keeps the cursor.
"""

from __future__ import annotations

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
from gateway.sources.transport import TransportFailure, make_session, with_retries

if TYPE_CHECKING:
    from zeep import Client

    from gateway.sources.base import SoapSource


class SoapFetchError(Exception):
    """The feed answered something the source cannot page through (e.g. no end)."""


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

        def post(self, address: str, message: Any, headers: Any) -> Any:
            response = super().post(address, message, headers)
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
    started = time.monotonic()
    row = 0
    page = 1
    try:
        while True:
            args = source.request(page, cursor)
            with unreadable_values() as unreadable:
                response = with_retries(
                    lambda args=args: operation(**args),
                    retries=retries,
                    backoff=backoff,
                    what=f"{source.id} page {page}",
                )
            if unreadable:
                raise SoapFetchError(
                    f"page {page}: the service sent a value its WSDL type does not allow "
                    f"({unreadable[0]}) / layanan mengirim nilai yang tidak sesuai tipe WSDL"
                )
            if page == 1:
                # The cursor is taken from the first page: changes made while we page are
                # seen again next time (applying an unchanged record again changes nothing).
                fetch.cursor_after = source.cursor_after(response, cursor)
            count = 0
            for item in source.items(response):
                count += 1
                row += 1
                values = source.map_row(item, row)
                if values is not None:
                    spool.append(RawRow(row=row, values=cell_texts(values, row)))
            if not source.more_pages(response, page, count):
                break
            page += 1
            if page > source.max_pages:
                raise SoapFetchError(
                    f"more than {source.max_pages} pages: the service never reports the last "
                    "page / layanan tidak pernah menandai halaman terakhir"
                )
    finally:
        client.transport.session.close()
    fetch.stats.update(pages=page, records=row, seconds=round(time.monotonic() - started, 3))


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
