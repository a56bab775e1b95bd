"""HTTP plumbing shared by the network source kits: sessions, retries, clean error texts.

Retries are for *transport* failures only: a refused or dropped connection, a timeout, an
HTTP 5xx/429 without a SOAP answer. A SOAP Fault, a 4xx, or a well-delivered but malformed
document is the server's considered answer; asking again would give the same answer and hide
the cause, so those fail at once. Reads that are retried are page reads: idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import requests

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = "jamsos-gateway/0.1 (+BPJS Ketenagakerjaan non-ASN enrolment)"
MAX_BACKOFF = 30.0


class TransportFailure(Exception):
    """A network-level failure; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


def make_session() -> requests.Session:
    """A session that ignores proxy/netrc settings of the environment: a sync talks to the
    configured address and nothing else."""
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    return session


def is_transient(exc: BaseException) -> bool:
    """Whether asking again might help."""
    if isinstance(exc, TransportFailure):
        return exc.status is None or exc.status >= 500 or exc.status == 429
    if isinstance(
        exc,
        requests.ConnectionError
        | requests.Timeout
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError,
    ):
        return True
    try:  # zeep is optional for CSV-only deployments
        from zeep.exceptions import TransportError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, TransportError) and (exc.status_code >= 500 or exc.status_code == 429)


def with_retries(
    call: Callable[[], T],
    *,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "request",
) -> T:
    """`call()`, retried up to `retries` times on transient failures with exponential
    backoff (backoff, 2x, 4x ... capped at 30 s). Other exceptions propagate at once."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:
            if attempt >= retries or not is_transient(exc):
                raise
            delay = min(MAX_BACKOFF, backoff * 2**attempt)
            attempt += 1
            log.warning(
                "%s failed (%s), retry %d/%d in %.1fs",
                what,
                describe_error(exc),
                attempt,
                retries,
                delay,
            )
            sleep(delay)


def describe_error(exc: BaseException) -> str:
    """A short cause for a run record: the kind of failure, never the response body (a body
    can hold NIKs and names, and run records are shown to people)."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if isinstance(exc, requests.Timeout):
        return f"{name}: timed out / waktu habis"
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return f"{name}: connection failed or dropped / koneksi gagal atau terputus"
    text = str(exc).split("\nContent:", 1)[0]  # zeep appends the whole response body
    text = " ".join(text.split())[:300]
    return f"{name}{f' (HTTP {status})' if status else ''}: {text}"
