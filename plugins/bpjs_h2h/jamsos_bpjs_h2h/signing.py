"""Request signing for the host-to-host channel (docs/bpjs-h2h.md, "Signing").

Every request carries three headers:

    X-Cons-ID     the consumer id BPJS issued to the gateway
    X-Timestamp   seconds since 1970-01-01 UTC, as decimal text
    X-Signature   base64(HMAC-SHA256(secret, canonical string))

The canonical string is four lines joined by "\\n": the method in capitals, the path with its
query string exactly as sent, the timestamp header's text, and the lower-case hex SHA-256 of
the body (of the empty string for a GET). Signing the body's digest and the path binds the
signature to this request: a captured signature cannot be replayed onto another batch or
another page, and the timestamp window (5 minutes) bounds replays of the same request.
Both the loopback service and the destination use this module, so they cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

HEADER_CONSUMER = "X-Cons-ID"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_SIGNATURE = "X-Signature"
MAX_SKEW_SECONDS = 300


def canonical(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """The text the signature covers (see the module docstring)."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, digest)).encode()


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), canonical(method, path, timestamp, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def sign(
    consumer: str, secret: str, method: str, path: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The three headers for one request."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        HEADER_CONSUMER: consumer,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGNATURE: signature(secret, method, path, timestamp, body),
    }


def verify(
    secrets: dict[str, str],
    headers: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    now: float | None = None,
) -> str | None:
    """None when the request is signed by a known consumer within the window; otherwise the
    reason code (`consumer_unknown`, `timestamp_invalid`, `timestamp_skew`,
    `signature_invalid`), never which part of the signature differed."""
    consumer = headers.get(HEADER_CONSUMER) or ""
    timestamp = headers.get(HEADER_TIMESTAMP) or ""
    given = headers.get(HEADER_SIGNATURE) or ""
    secret = secrets.get(consumer)
    if secret is None:
        return "consumer_unknown"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "timestamp_invalid"
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_SKEW_SECONDS:
        return "timestamp_skew"
    expected = signature(secret, method, path, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return "signature_invalid"
    return None
