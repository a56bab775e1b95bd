"""A loopback stand-in for BPJS Ketenagakerjaan's host-to-host service: for tests, the
benchmark and `make run` (docs/bpjs-h2h.md).

JSON over real HTTP on 127.0.0.1, every request signed (`jamsos_bpjs_h2h.signing`). A batch of
mutations is answered 202 at once; a background thread applies them in arrival order and
writes acknowledgements, read by paging. Its own SQLite log (`jamsos_bpjs_h2h.ledger`) keeps
what it received by idempotency key, so a test can prove exactly what BPJS saw:

    with BpjsServer(tmp_path / "bpjs.sqlite", rules=Rules(unknown_niks={nik})) as bpjs:
        bpjs.fail("submit", "http503", times=2)   # slow | drop | http500 | http503 | 429 | repeat
        ... deliver with url=bpjs.url ...
        assert all(r["times_received"] == 1 for r in bpjs.ledger.received().values())

Faults can also be set over HTTP (`POST /h2h/admin/faults`, loopback only) when the service
runs on its own: `python -m jamsos_bpjs_h2h.server --port 8082`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jamsos_bpjs_h2h.ledger import Ledger
from jamsos_bpjs_h2h.rules import Rules
from jamsos_bpjs_h2h.signing import verify

PREFIX = "/h2h/v1"
SUBMIT_PATH = f"{PREFIX}/mutations"
ACKS_PATH = f"{PREFIX}/acks"
ADMIN_PATH = "/h2h/admin/faults"
MAX_BATCH = 1000  # mutations in one request
MAX_BODY = 16 * 1024 * 1024
MAX_PAGE = 1000
FAULT_KINDS = ("slow", "drop", "http500", "http503", "429", "repeat")
ENDPOINTS = ("submit", "acks", "any")

ERRORS: dict[str, tuple[int, str, str]] = {
    "consumer_unknown": (401, "Consumer ID tidak dikenal.", "Unknown consumer id."),
    "timestamp_invalid": (401, "X-Timestamp bukan detik Unix.", "X-Timestamp is not Unix seconds."),
    "timestamp_skew": (
        401, "X-Timestamp berbeda lebih dari 5 menit dari jam server.",
        "X-Timestamp is more than 5 minutes off the server's clock.",
    ),
    "signature_invalid": (401, "Tanda tangan (X-Signature) tidak cocok.",
                          "The signature (X-Signature) does not match."),
    "not_found": (404, "Alamat tidak dikenal.", "Unknown path."),
    "body_invalid": (400, "Isi permintaan bukan JSON batch yang sah: {detail}.",
                     "The request body is not a valid JSON batch: {detail}."),
    "batch_too_large": (413, "Satu batch paling banyak {max} mutasi.",
                        "A batch holds at most {max} mutations."),
    "rate_limited": (429, "Terlalu banyak permintaan; coba lagi setelah {seconds} detik.",
                     "Too many requests; try again after {seconds} seconds."),
    "unavailable": (503, "Layanan sedang tidak tersedia.", "The service is unavailable."),
    "internal": (500, "Kesalahan internal server.", "Internal server error."),
}  # fmt: skip


@dataclass
class Fault:
    kind: str
    times: int
    seconds: float  # slow: how long; 429: the Retry-After value


@dataclass
class ServiceState:
    ledger: Ledger
    consumers: dict[str, str]
    admin: bool
    # endpoint -> faults queued in the order they were asked for
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (endpoint, status)
    served: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, fault kind)
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    hold_acks: bool = False
    ack_delay: float = 0.0  # seconds before each round of acknowledgements
    latency: float = 0.0  # seconds added to every signed request: a distant service

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for name in (endpoint, "any"):
                queue = self.faults.get(name)
                if queue:
                    fault = queue[0]
                    fault.times -= 1
                    if fault.times <= 0:
                        queue.pop(0)
                    self.served.append((endpoint, fault.kind))
                    return fault
        return None


class BpjsServer:
    """The service in background threads (HTTP and the acknowledger); a context manager."""

    def __init__(
        self,
        log_path: str | Path,
        *,
        rules: Rules | None = None,
        consumers: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        admin: bool = True,
        ack_delay: float = 0.0,
        latency: float = 0.0,
    ) -> None:
        self.ledger = Ledger(log_path, rules)
        self.state = ServiceState(
            self.ledger, dict(consumers or {"jamsos": "rahasia-demo"}), admin,
            ack_delay=ack_delay, latency=latency,
        )  # fmt: skip
        self._httpd = _QuietServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.state = self.state  # type: ignore[attr-defined]
        self._threads = [
            threading.Thread(target=self._httpd.serve_forever, daemon=True, name="bpjs-http"),
            threading.Thread(target=self._acknowledge, daemon=True, name="bpjs-acks"),
        ]

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def start(self) -> BpjsServer:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.state.stopping.set()
        self.state.wake.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._threads[1].join(timeout=10)
        self.ledger.close()

    def __enter__(self) -> BpjsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting the service ---------------------------------------------------------------
    def fail(self, endpoint: str, kind: str, *, times: int = 1, seconds: float = 1.0) -> None:
        """Make the next `times` requests to `endpoint` (submit | acks | any) misbehave;
        faults asked for one after another come one after another."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")
        with self.state.lock:
            self.state.faults.setdefault(endpoint, []).append(Fault(kind, times, seconds))

    def heal(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def hold_acks(self, hold: bool = True) -> None:
        """Stop (or resume) acknowledging: received mutations wait, as at a busy BPJS."""
        self.state.hold_acks = hold
        self.state.wake.set()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until everything received is acknowledged (tests)."""
        deadline = time.monotonic() + timeout
        while self.ledger.pending():
            if time.monotonic() > deadline:
                raise TimeoutError("the acknowledger did not catch up")
            time.sleep(0.02)

    @property
    def requests(self) -> list[tuple[str, int]]:
        """(endpoint, HTTP status) of each signed request; 0: dropped without an answer."""
        return self.state.requests

    @property
    def faults_served(self) -> list[tuple[str, str]]:
        """(endpoint, fault kind) of each request that misbehaved, in order."""
        return self.state.served

    def _acknowledge(self) -> None:
        state = self.state
        while not state.stopping.is_set():
            state.wake.wait(0.2)
            state.wake.clear()
            if state.hold_acks or state.stopping.is_set():
                continue
            if state.ack_delay:
                time.sleep(state.ack_delay)
            while not state.hold_acks and not state.stopping.is_set():
                if not state.ledger.process_pending(500):
                    break


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client killed or timed out mid-request is part of the tests, not a server error.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BpjsH2HLoopback/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def state(self) -> ServiceState:
        return self.server.state  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit():  # negative or not a number: the body cannot be read safely
            self.close_connection = True
            self._error("body_invalid", detail="Content-Length")
            return
        length = int(text)
        if length > MAX_BODY:
            self.close_connection = True
            self._error("batch_too_large", max=MAX_BATCH)
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        if parts.path == ADMIN_PATH and self.state.admin:
            self._admin(method, body)
            return
        endpoint = {("POST", SUBMIT_PATH): "submit", ("GET", ACKS_PATH): "acks"}.get(
            (method, parts.path)
        )
        if endpoint is None:
            self._error("not_found")
            return
        reason = verify(self.state.consumers, dict(self.headers), method, self.path, body)
        if reason is not None:
            self._error(reason, endpoint=endpoint)
            return
        if self.state.latency:
            time.sleep(self.state.latency)
        fault = self.state.take_fault(endpoint)
        if fault is not None and self._fault_before(fault, endpoint):
            return
        try:
            if endpoint == "submit":
                status, answer = self._submit(body)
            else:
                status, answer = self._acks(parse_qs(parts.query), fault)
        except Exception:  # a bug of the service: say so, keep serving
            self._error("internal", endpoint=endpoint)
            return
        if fault is not None and fault.kind == "drop":
            # Applied, then the connection is lost before the answer: the client cannot know.
            self._record(endpoint, 0)
            self.close_connection = True
            return
        slow = fault.seconds if fault is not None and fault.kind == "slow" else 0.0
        self._json(status, answer, endpoint, delay=slow)

    def _fault_before(self, fault: Fault, endpoint: str) -> bool:
        """Faults answered before anything is applied; True when answered."""
        if fault.kind in ("http500", "http503"):
            self._error("internal" if fault.kind == "http500" else "unavailable", endpoint=endpoint)
        elif fault.kind == "429":
            seconds = max(0, round(fault.seconds))
            self._error("rate_limited", endpoint=endpoint, retry_after=seconds, seconds=seconds)
        else:
            return False
        return True

    def _submit(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            batch = json.loads(body)
        except ValueError:  # not UTF-8, not JSON
            return _problem("body_invalid", detail="not JSON")
        mutations = batch.get("mutations") if isinstance(batch, dict) else None
        if not isinstance(mutations, list) or not mutations:
            return _problem("body_invalid", detail="'mutations' must be a non-empty list")
        if len(mutations) > MAX_BATCH:
            return _problem("batch_too_large", max=MAX_BATCH)
        for i, m in enumerate(mutations):
            key = m.get("idempotency_key") if isinstance(m, dict) else None
            if not isinstance(key, str) or not 1 <= len(key) <= 128:
                return _problem(
                    "body_invalid", detail=f"mutations[{i}].idempotency_key must be 1-128 chars"
                )
        batch_id = batch.get("batch_id")
        counts = self.state.ledger.receive(str(batch_id) if batch_id else None, mutations)
        self.state.wake.set()
        return 202, {"batch_id": batch_id, **counts}

    def _acks(self, query: dict[str, list[str]], fault: Fault | None) -> tuple[int, dict]:
        after_text = (query.get("after") or ["0"])[0] or "0"
        limit_text = (query.get("limit") or ["100"])[0]
        if not after_text.isdigit() or not limit_text.isdigit():
            return _problem("body_invalid", detail="after and limit must be whole numbers")
        after, limit = int(after_text), max(1, min(MAX_PAGE, int(limit_text)))
        if fault is not None and fault.kind == "repeat":
            after = max(0, after - limit)  # an answer given again: the page before, too
        # Counted before the page is read: an acknowledgement committed in between is then on
        # this page, or still counted as pending. Read after, a page could say "nothing, and
        # nothing pending" of an answer made meanwhile, and the caller stop waiting for it.
        pending = self.state.ledger.pending()
        acks = self.state.ledger.acks(after, limit + 1)
        more = len(acks) > limit
        acks = acks[:limit]
        return 200, {
            "acks": acks,
            "next": acks[-1]["cursor"] if acks else str(after),
            "more": more,
            "pending": pending,
        }

    def _admin(self, method: str, body: bytes) -> None:
        if method == "DELETE":
            with self.state.lock:
                self.state.faults.clear()
            self._json(200, {"faults": {}}, "admin")
            return
        if method == "POST":
            try:
                spec = json.loads(body)
                fault = Fault(str(spec["kind"]), int(spec.get("times", 1)),
                              float(spec.get("seconds", 1.0)))  # fmt: skip
                endpoint = str(spec.get("endpoint", "any"))
                if fault.kind not in FAULT_KINDS or endpoint not in ENDPOINTS:
                    raise ValueError(fault.kind)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                self._json(*_problem("body_invalid", detail=(
                    f"kind one of {', '.join(FAULT_KINDS)}, endpoint one of "
                    f"{', '.join(ENDPOINTS)}, times, seconds")), "admin")  # fmt: skip
                return
            with self.state.lock:
                self.state.faults.setdefault(endpoint, []).append(fault)
        with self.state.lock:
            faults = {k: [vars(f) for f in q] for k, q in self.state.faults.items() if q}
        self._json(200, {"faults": faults}, "admin")

    # -- answering ---------------------------------------------------------------------------
    def _error(self, code: str, *, endpoint: str = "-", retry_after: int | None = None,
               **values: Any) -> None:  # fmt: skip
        status, answer = _problem(code, **values)
        self._json(status, answer, endpoint, retry_after=retry_after)

    def _json(self, status: int, answer: dict, endpoint: str, *,
              retry_after: int | None = None, delay: float = 0.0) -> None:  # fmt: skip
        body = json.dumps(answer, ensure_ascii=False).encode()
        self._record(endpoint, status)
        time.sleep(delay)  # a slow answer: applied already, the client may have given up
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True

    def _record(self, endpoint: str, status: int) -> None:
        with self.state.lock:
            self.state.requests.append((endpoint, status))


def _problem(code: str, **values: Any) -> tuple[int, dict[str, Any]]:
    status, text_id, text_en = ERRORS[code]
    return status, {"error": {"code": code, "message_id": text_id.format(**values),
                              "message_en": text_en.format(**values)}}  # fmt: skip


if __name__ == "__main__":  # python -m jamsos_bpjs_h2h.server
    from jamsos_bpjs_h2h.cli import main

    main()
