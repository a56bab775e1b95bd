"""The host-to-host destination: mutations to BPJS Ketenagakerjaan as signed JSON over HTTP(S)
(docs/bpjs-h2h.md).

`send()` posts one batch (one idempotency key per mutation) and gets 202: BPJS answers later.
`poll()` pages through the acknowledgements from the outbox's cursor. Failures:

* a refused or dropped connection, a timeout, a 5xx or a 429 is retried here with exponential
  backoff (a 429's Retry-After is honoured); sending a batch again is safe, the keys make
  BPJS apply each mutation once. When the retries are spent, `DeliveryError(retryable=True)`
  tells the outbox to try again in a later run;
* any other 4xx (a bad signature, a malformed batch) is BPJS refusing the request itself:
  asking again gives the same answer, so it fails at once, `retryable=False`, with BPJS's
  words. Error texts never hold a response body beyond BPJS's own error message (bodies of
  other answers name workers).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import requests

from gateway import Ack, AckPage, DeliveryError, Destination, OutgoingMutation
from jamsos_bpjs_h2h.signing import sign

log = logging.getLogger(__name__)
USER_AGENT = "jamsos-gateway/0.1 bpjs-h2h"
_REGION = re.compile(r"\d{2}(\.\d{2})?")


class BpjsHostToHost(Destination):
    """Settings (`[destinations.bpjs-h2h]` in config/destinations.toml):

    url              the service's base URL, e.g. https://h2h.example/h2h/v1 (required)
    consumer_id      the consumer id BPJS issued (required)
    secret           the consumer secret: a `$env:NAME` or `$file:/path` reference (required)
    timeout          seconds to wait for an answer (default 30)
    connect_timeout  seconds to wait for a connection (default 5)
    http_retries     further attempts of one request after a transient failure (default 2)
    http_backoff     the first wait between them in seconds, doubled each time (default 0.5)
    max_wait         the longest single wait, Retry-After included (default 60)
    batch_size       mutations per request (default 500, at most 1000)
    page_size        acknowledgements per page (default 500, at most 1000)
    ack_wait         seconds one `poll` waits while BPJS is still answering (default 0: the
                     outbox's `answer_wait` does the waiting)
    ca_file          a CA bundle to check the service's TLS certificate against (a private
                     CA on BPJS's network); default: the system's

    The outbox's own settings of the same table (`retries`, `backoff_base`, `backoff_max`,
    `answer_wait`, `poll_interval`) apply around these: when one request's retries are spent
    it sends the batch again later, with the same keys.
    """

    id = "bpjs-h2h"
    title = "BPJS Ketenagakerjaan: host-to-host API"
    channel = "push"
    batch_size: ClassVar[int] = 500

    def __init__(self, settings: Any = None, *, sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings)
        self.batch_size = max(1, min(1000, int(self.setting("batch_size", 500))))  # type: ignore[misc]
        self._sleep = sleep
        self._session: requests.Session | None = None

    # -- the Destination contract ------------------------------------------------------------
    def send(self, mutations: Sequence[OutgoingMutation]) -> Sequence[Ack]:
        if not mutations:
            return []
        batch = {"batch_id": uuid.uuid4().hex, "mutations": [wire(m) for m in mutations]}
        body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
        self._request("POST", "/mutations", body, what=f"batch of {len(mutations)}")
        return []  # accepted for processing; the answers come through poll()

    def poll(self, cursor: str | None) -> AckPage:
        after = cursor or "0"
        size = max(1, min(1000, int(self.setting("page_size", 500))))
        deadline = time.monotonic() + float(self.setting("ack_wait", 0))
        while True:
            answer = self._request("GET", f"/acks?after={quote(after, safe='')}&limit={size}",
                                   b"", what="acks")  # fmt: skip
            try:
                acks = [ack_of(item) for item in answer.get("acks", [])]
            except (KeyError, TypeError, AttributeError) as exc:
                # The cursor must not move past answers that could not be read.
                raise DeliveryError(
                    "Halaman jawaban BPJS tidak terbaca / BPJS's answer page is malformed "
                    f"({type(exc).__name__})", retryable=False,
                ) from exc
            pending = int(answer.get("pending") or 0)
            if acks or not pending or time.monotonic() >= deadline:
                break
            self._sleep(0.1)  # BPJS still working: its answers are seconds away
        # More when BPJS says so, or when it is still working and answered something this
        # time; an empty page after `ack_wait` ends the round (the rest comes next run).
        more = bool(answer.get("more")) or (pending > 0 and bool(acks))
        return AckPage(acks, str(answer.get("next") or after), more)

    # -- HTTP --------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes, *, what: str) -> dict[str, Any]:
        base, consumer, secret = self._connection()
        url = base + path
        parts = urlsplit(url)
        signed_path = parts.path + (f"?{parts.query}" if parts.query else "")
        retries = int(self.setting("http_retries", 2))
        backoff = float(self.setting("http_backoff", 0.5))
        max_wait = float(self.setting("max_wait", 60))
        timeout = (float(self.setting("connect_timeout", 5)), float(self.setting("timeout", 30)))
        attempt = 0
        while True:
            headers = {"Content-Type": "application/json", **sign(
                consumer, secret, method, signed_path, body)}  # fmt: skip
            retry_after: float | None = None
            try:
                response = self.session.request(
                    method, url, data=body or None, headers=headers, timeout=timeout,
                    allow_redirects=False, verify=self.setting("ca_file") or True,
                )  # a redirect is not followed: the signature names this path only
                if response.status_code < 300:
                    return response.json()
                cause = f"HTTP {response.status_code}: {_error_text(response)}"
                if response.status_code == 429:
                    retry_after = _retry_after(response)
                elif response.status_code < 500:
                    raise DeliveryError(
                        f"BPJS menolak permintaan ({what}) / BPJS refused the request: {cause}",
                        retryable=False,
                        status=response.status_code,
                    )
                status: int | None = response.status_code
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:  # fmt: skip
                cause, status = _transport_text(exc), None
            except ValueError as exc:  # a 2xx whose body is not JSON: BPJS's fault, transient
                cause, status = f"answer is not JSON ({type(exc).__name__})", None
            delay = min(max_wait, backoff * 2**attempt)
            if retry_after is not None:
                delay = retry_after
            if attempt >= retries or delay > max_wait:
                raise DeliveryError(
                    f"BPJS tidak dapat dihubungi ({what}) setelah {attempt + 1} percobaan / "
                    f"BPJS unreachable after {attempt + 1} attempts: {cause}",
                    retryable=True,
                    retry_after=retry_after,
                    status=status,
                )
            attempt += 1
            log.warning("bpjs-h2h %s failed (%s), retry %d/%d in %.1fs",
                        what, cause, attempt, retries, delay)  # fmt: skip
            self._sleep(delay)

    def _connection(self) -> tuple[str, str, str]:
        """url, consumer id and secret, or a delivery error a person can act on (a missing
        setting, an unreadable secret file) instead of a traceback."""
        base = str(self.setting("url") or "").rstrip("/")
        try:
            consumer, secret = self.secret("consumer_id"), self.secret("secret")
            if urlsplit(base).scheme not in ("http", "https"):
                raise ValueError(f"url must be an http(s) address, got {base!r}")
        except Exception as exc:
            raise DeliveryError(
                f"Pengaturan [destinations.{self.id}] tidak lengkap atau salah: {exc} / "
                f"settings of [destinations.{self.id}] missing or wrong: {exc}",
                retryable=False,
            ) from exc
        return base, consumer, secret

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
            self._session.trust_env = False  # talk to the configured address, no proxy
            self._session.headers["User-Agent"] = USER_AGENT
        return self._session


def wire(m: OutgoingMutation) -> dict[str, Any]:
    """One mutation as BPJS's JSON (docs/bpjs-h2h.md, "Submitting mutations")."""
    employer = m.employer
    out: dict[str, Any] = {"idempotency_key": m.key, "kind": m.kind, "month": m.month}
    if employer.kind == "wadah":
        out.update(wadah=employer.npp, segment=employer.segment)
    else:
        out.update(npp=employer.npp, division=employer.division)
    out.update(
        nik=m.nik,
        name=m.name,
        birth_date=m.birth_date.isoformat(),
        gender=m.gender,
        wage=int(m.wage),
        start_date=m.start_date.isoformat(),
        end_date=m.end_date.isoformat() if m.end_date else None,
        reason=m.end_reason,
    )
    if m.kpj:
        out["kpj"] = m.kpj
    if _REGION.fullmatch(m.agency or ""):  # a regional government: its UMK/UMP applies
        out["region"] = m.agency
    return out


def ack_of(item: dict[str, Any]) -> Ack:
    status = item.get("status")
    return Ack(
        key=str(item["idempotency_key"]),
        outcome=status if status in ("accepted", "rejected") else "pending",
        kpj=item.get("kpj"),
        reason_code=item.get("reason_code"),
        reason_id=item.get("reason_id"),
        reason_en=item.get("reason_en"),
    )


def _error_text(response: requests.Response) -> str:
    """BPJS's own error words (they name no worker); never the rest of a body."""
    try:
        error = response.json().get("error") or {}
        return f"{error.get('code')}: {error.get('message_id')} / {error.get('message_en')}"
    except (ValueError, AttributeError):
        return response.reason or "no readable error / tidak ada keterangan"


def _retry_after(response: requests.Response) -> float | None:
    value = (response.headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def _transport_text(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"{type(exc).__name__}: timed out / waktu habis"
    return f"{type(exc).__name__}: connection failed or dropped / koneksi gagal atau terputus"
