"""Before delivery: which workers' mutations wait for their identity verification.

`delivery_holds(conn, worker_ids, settings)` is called by delivery (gateway/delivery/) when
it builds a batch for BPJS. The policy is `[verification] before_delivery`:

* `wait` (default): a worker not yet verified, or whose verdict is not a match, waits; their
  mutation goes once a later answer matches (the agency corrected the data, or the record
  was settled at Disdukcapil and the worker re-checked).
* `hold`: not yet verified waits as above; a verdict that is not a match is held until a
  person acts (the clerk corrects the roster, or the verdict is re-checked).
* `send`: nothing waits; verdicts are still reported.

With no provider configured nothing waits: a government without a PKS with Dukcapil
delivers as before. Workers not in the answer go ahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gateway.store.verification import verdicts_of
from gateway.verify.elements import MATCH
from gateway.verify.settings import VerificationSettings, verification_settings
from gateway.verify.words import verdict_words

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True, slots=True)
class Hold:
    state: Literal["wait", "hold"]
    reason_id: str
    reason_en: str
    outcome: str  # the verdict, or "pending"


def delivery_holds(
    conn: Connection,
    worker_ids: Sequence[int],
    settings: VerificationSettings | Mapping[str, Any],
) -> dict[int, Hold]:
    """{worker id: Hold} of the workers whose mutations must not go yet (`settings`: the
    verification settings, or the gateway configuration to read them from)."""
    if not isinstance(settings, VerificationSettings):
        settings = verification_settings(settings)
    if not settings.enabled or settings.before_delivery == "send" or not worker_ids:
        return {}
    verdicts = verdicts_of(conn, list(worker_ids))
    holds: dict[int, Hold] = {}
    for worker_id in worker_ids:
        outcome = verdicts.get(worker_id, "pending")
        if outcome == MATCH:
            continue
        state: Literal["wait", "hold"] = (
            "hold" if settings.before_delivery == "hold" and outcome != "pending" else "wait"
        )
        words = verdict_words(outcome, ())
        holds[worker_id] = Hold(
            state,
            f"Menunggu verifikasi identitas: {words.id}",
            f"Waiting for identity verification: {words.en}",
            outcome,
        )
    return holds
