"""The contract kit's stand-in for a SOAP service: recorded pages over real HTTP on 127.0.0.1,
answered only when the plugin asks for them as the real service needs to be asked.

`gateway.testing.SourceContract` replays a plugin's recorded responses (`samples/*.xml`, one
per page, in name order) to zeep through this server. A server that answered "the next page"
whatever it was sent passed a plugin that never sends the page number or the next-page token,
which against the real service fetches page 1 for ever. So each request is checked against
what the recorded pages say:

* the request for page 2, 3, ... must differ from the one before (in its SOAP Body): a plugin
  sending the same request twice sends no page number and no token;
* when the page before holds a next-page token (a leaf element of the response whose name
  ends in "token" or "cursor", or starts with "next"; not a true/false flag), the request
  must send that token's value;
* asking for more pages than were recorded means `more_pages()` did not see the last page.

A request that breaks the first two is answered with a SOAP Fault naming what is wrong, and
every finding is kept in `violations` for the kit's own check to report.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_TOKEN_NAME = re.compile(r"(token|cursor)$|^next", re.IGNORECASE)
_FLAGS = {"true", "false", "0", "1", ""}


def _parse(data: bytes) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None


def _body(envelope: Any) -> Any:
    if envelope is None:
        return None
    return envelope.find(f"{{{SOAP_ENV}}}Body")


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def body_of(request: bytes) -> bytes:
    """A request's SOAP Body, canonical (C14N): two requests asking the same compare equal
    whatever the header (a WS-Security nonce, a timestamp) says."""
    from lxml import etree

    body = _body(_parse(request))
    return request if body is None else etree.tostring(body, method="c14n")


def texts_of(request: bytes) -> set[str]:
    """Every element text of a request's SOAP Body, trimmed."""
    body = _body(_parse(request))
    if body is None:
        return set()
    return {el.text.strip() for el in body.iter() if isinstance(el.tag, str) and el.text}


def next_page_tokens(response: bytes) -> dict[str, str]:
    """{element name: value} of the next-page tokens a recorded response gives: leaf elements
    directly in the response element (not inside a worker record)."""
    body = _body(_parse(response))
    if body is None:
        return {}
    found: dict[str, str] = {}
    for answer in body:
        for el in answer:
            if not isinstance(el.tag, str) or len(el) or not _TOKEN_NAME.search(_local(el.tag)):
                continue
            value = (el.text or "").strip()
            if value.casefold() not in _FLAGS:
                found[_local(el.tag)] = value
    return found


def fault(text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:Client</faultcode><faultstring>{escape(text)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>\n"
    ).encode()


class ReplayServer:
    """Answers each POST with the next recorded page (then the last again), after checking
    the request asks for it; `broken_page` serves that page cut in half. Real HTTP on
    127.0.0.1."""

    def __init__(self, pages: list[bytes]) -> None:
        self.pages = pages
        self._tokens = [next_page_tokens(p) for p in pages]
        self.served = 0
        self.broken_page: int | None = None  # 1-based page to truncate
        self.violations: list[str] = []
        self._previous: bytes | None = None
        self._lock = threading.Lock()
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = replay.answer(request)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def answer(self, request: bytes) -> tuple[int, bytes]:
        """(HTTP status, body) for one request: the page it asks for, or a SOAP Fault."""
        with self._lock:
            index = self.served
            self.served += 1
            wrong = self._check(index, request)
            if wrong is not None:
                self.violations.append(wrong)
                return 500, fault(f"contract kit: {wrong}")
            body = self.pages[min(index, len(self.pages) - 1)]
            if self.broken_page == index + 1:
                body = body[: len(body) // 2]
            return 200, body

    def _check(self, index: int, request: bytes) -> str | None:
        page = index + 1
        asked = body_of(request)
        previous, self._previous = self._previous, asked
        if index == len(self.pages):
            # Served anyway (the last page again), so `max_pages` stops the fetch as it would
            # stop a real service's; reported once.
            self.violations.append(
                f"asked for page {page}, but the recorded fetch has {len(self.pages)}: "
                "more_pages() says another page follows the last one"
            )
        if index == 0 or index > len(self.pages):
            return None
        if previous is not None and asked == previous:
            return (
                f"page {page} was asked for with exactly the request of page {index}: "
                "request() sends no page number and no next-page token, so the real service "
                f"would answer page 1 again for ever (use `page`, or the token in `previous`)"
            )
        sent = texts_of(request)
        for name, value in self._tokens[index - 1].items():
            if value not in sent:
                return (
                    f"page {index} gives the next-page token {name}={value!r}, but the request "
                    f"for page {page} does not send it: take it from `previous` in request()"
                )
        return None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/service"

    def reset(self, broken_page: int | None = None) -> None:
        with self._lock:
            self.served = 0
            self.broken_page = broken_page
            self.violations = []
            self._previous = None

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
