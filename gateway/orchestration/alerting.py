"""Airflow's side of the gateway's alerts: the callbacks the DAGs hand to Airflow.

    on_failure_callback=SyncFailureAlert(source_id, agency)     # the task failed for good
    deadline=DeadlineAlert(..., callback=SyncCallback(FEED_LATE, kwargs={...}))  # still late

Both raise the gateway's own Alert (`gateway.alerts.raise_alert`), which goes to every plugin
implementing the `send_alert` hook (e-mail, chat, a pager): the same path as the alerts the
gateway raises by itself, so an operator configures one channel. Airflow calls a task's
failure callback once, after the last retry (a retry calls `on_retry_callback` instead), and a
rejected roster fails at once without retries, so it alerts at once. No Airflow import here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# The dotted path Airflow's deadline alert imports on the executor to call feed_late.
FEED_LATE = "gateway.orchestration.alerting.feed_late"


def send(
    *,
    kind: str,
    severity: str,
    agency: str | None,
    title_id: str,
    title_en: str,
    details: Mapping[str, Any],
    key: str = "",
) -> bool:
    """Raise one gateway alert; False (and a log line) if it could not be sent.

    An alert that cannot be sent must never fail or hide the task's own outcome: Airflow's
    task state and the gateway's run record stay the source of truth.
    """
    from gateway.orchestration import open_gateway

    try:
        from gateway.alerts import raise_alert
    except ImportError:
        log.warning("gateway.alerts is not available: alert %s not sent: %s", kind, title_en)
        return False
    try:
        with open_gateway() as gw:
            raise_alert(
                gw,
                kind=kind,
                severity=severity,
                agency=agency,
                title_id=title_id,
                title_en=title_en,
                details=dict(details),
                key=key,
            )
    except Exception:
        log.exception("alert %s could not be sent: %s", kind, title_en)
        return False
    return True


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


@dataclass(frozen=True)
class SyncFailureAlert:
    """`on_failure_callback` of a sync task: "feed X failed after its last retry"."""

    source_id: str
    agency: str
    kind = "sync_failed"
    what_id = "Sinkronisasi"
    what_en = "Sync"
    record = "run"  # the gateway's record behind the failure: a run (its id in the summary)

    def __call__(self, context: Mapping[str, Any]) -> None:
        ti = context.get("ti")
        error = context.get("exception")
        # The gateway's run behind the failure (SyncFailed carries it; a rejected roster is
        # re-raised as AirflowFailException "from" it): the alert's key is the one the
        # gateway's own check uses for that run, so the two never alert twice.
        summary = getattr(error, "summary", None) or getattr(
            getattr(error, "__cause__", None), "summary", None
        )
        gateway_run = summary.get(f"{self.record}_id") if isinstance(summary, Mapping) else None
        details = {
            "source": self.source_id,
            "dag_id": _get(ti, "dag_id"),
            "run_id": context.get("run_id") or _get(ti, "run_id"),
            "try_number": _get(ti, "try_number"),
            "error": str(error)[:500] if error else None,
            "gateway_run_id": gateway_run,
        }
        key = f"{self.kind}:{self.record}:{gateway_run}" if gateway_run else ""
        if not key:
            key = f"{self.kind}:{details['dag_id']}/{details['run_id']}"
        send(
            kind=self.kind,
            severity="error",
            agency=self.agency,
            title_id=f"{self.what_id} {self.source_id} gagal setelah percobaan terakhir",
            title_en=f"{self.what_en} {self.source_id} failed after its last retry",
            details=details,
            key=key,
        )


@dataclass(frozen=True)
class DeliveryFailureAlert(SyncFailureAlert):
    """`on_failure_callback` of a delivery task: "delivery to X failed after its last retry"
    (`source_id` is the destination's id, `agency` the receiving one)."""

    kind = "delivery_failed"
    what_id = "Pengiriman ke"
    what_en = "Delivery to"
    record = "delivery"


def feed_late(
    context: Mapping[str, Any] | None = None,
    *,
    source_id: str,
    agency: str,
    minutes: int,
    **_: Any,
) -> None:
    """Airflow's deadline callback: the scheduled sync had not finished `minutes` after its
    scheduled time (queued behind the pool, retrying, or hung)."""
    context = context or {}
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    send(
        kind="feed_late",
        severity="warning",
        agency=agency,
        title_id=f"Sumber {source_id} terlambat: belum selesai {minutes} menit setelah jadwal",
        title_en=f"Feed {source_id} is late: not finished {minutes} minutes after its schedule",
        details={
            "source": source_id,
            "dag_id": run.get("dag_id"),
            "run_id": run.get("dag_run_id") or run.get("run_id"),
            "state": run.get("state"),
            "deadline": str(deadline.get("deadline_time") or ""),
        },
        # Once per scheduled run (the gateway's own check keys by the due time it missed).
        key=f"feed_late:{agency}:{source_id}:{run.get('logical_date') or run.get('dag_run_id')}",
    )
