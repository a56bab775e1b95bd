"""Operations endpoints: /metrics (Prometheus text), /healthz (the process answers) and
/readyz (the database answers, its schema is the one this code expects and no data step of a
migration is pending).

Metrics are read from the database at scrape time by a custom collector, not counted in
process memory: several gunicorn workers (and the CLI, and Airflow) write runs, and every
one of them must report the same totals whichever worker the scrape reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gateway.store import db, rekey
from gateway.store.alerts import counts as alert_counts
from gateway.store.feed_health import run_totals
from gateway.store.liveness import oldest_running
from gateway.store.reconcile import last_figures

bp = Blueprint("ops", __name__)

HEALTH_STATES = ("healthy", "stale", "failing", "never", "running", "attention")


class RegistryCollector(Collector):
    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        gw = self.app.extensions["jamsos"]
        totals = run_totals(gw.registry.engine)
        # A gauge: a run moves from "running" to its outcome, so a status's count can fall.
        by_status = GaugeMetricFamily(
            "jamsos_runs", "Runs recorded, by current status.", labels=["status"]
        )
        rows = CounterMetricFamily(
            "jamsos_rows", "Roster rows read by all runs, by outcome.", labels=["outcome"]
        )
        for status, n in totals.by_status.items():
            by_status.add_metric([status], n)
        rows.add_metric(["accepted"], totals.accepted)
        rows.add_metric(["rejected"], totals.rejected)
        yield by_status
        yield rows

        feeds = gw.feeds(with_trend=False)
        now = datetime.now(UTC)
        staleness = GaugeMetricFamily(
            "jamsos_source_staleness_seconds",
            "Seconds since the source's last successful run started (absent: never).",
            labels=["agency", "source"],
        )
        last_ok = GaugeMetricFamily(
            "jamsos_source_last_success_timestamp_seconds",
            "Unix time of the source's last successful run.",
            labels=["agency", "source"],
        )
        health = GaugeMetricFamily(
            "jamsos_source_health",
            "1 for the source's current health state (failing, attention, stale, never, "
            "running, healthy), as the dashboard judges it against the source's schedule; "
            "attention: the last run ended or rejected more than its configured share.",
            labels=["agency", "source", "state"],
        )
        for f in feeds:
            labels = [f.agency, f.source]
            if f.last_ok_at is not None:
                staleness.add_metric(labels, (now - f.last_ok_at).total_seconds())
                last_ok.add_metric(labels, f.last_ok_at.timestamp())
            for state in HEALTH_STATES:
                health.add_metric([*labels, state], 1.0 if f.health == state else 0.0)
        yield staleness
        yield last_ok
        yield health
        yield from self._operations(gw, now)
        yield from self._reconciliation(gw)

    def _operations(self, gw: Any, now: datetime) -> Iterator[Any]:
        """What deploy/prometheus/jamsos-rules.yml alerts on beyond the feeds (issue 20)."""
        started = oldest_running(gw.registry.engine)
        oldest = GaugeMetricFamily(
            "jamsos_run_oldest_running_seconds",
            "Age of the oldest run still running (0: none). A run past its scheduler's "
            "timeout (4 h) is stuck: its process hung, or died where no sweep can check it.",
        )
        oldest.add_metric([], (now - started).total_seconds() if started else 0.0)
        yield oldest
        raised = GaugeMetricFamily(
            "jamsos_alerts_raised",
            "Alerts raised in the last 24 hours (gateway/alerts.py), by kind and severity.",
            labels=["kind", "severity"],
        )
        lost = GaugeMetricFamily(
            "jamsos_alerts_undelivered",
            "Alerts of the last 24 hours that no send_alert plugin delivered (none configured, "
            "or every one failed): nobody was told.",
        )
        undelivered = 0
        for (kind, severity), (n, nobody) in alert_counts(gw.registry.engine,
                                                          now - timedelta(hours=24)).items():
            raised.add_metric([kind, severity], n)
            undelivered += nobody
        lost.add_metric([], undelivered)
        yield raised
        yield lost


    def _reconciliation(self, gw: Any) -> Iterator[Any]:
        """The last `jamsos reconcile run`'s figures (docs/reconcile.md): a scrape never
        recomputes a reconciliation over a million enrollments."""
        last = last_figures(gw.registry.engine) or {}
        figures = GaugeMetricFamily(
            "jamsos_coverage_workers",
            "Workers per enrolling agency at the last reconciliation: rostered (active in the "
            "registry), registered (a KPJ and status aktif at BPJS), covered (registered and "
            "the NPP paid up).",
            labels=["agency", "figure"],
        )
        for agency, counts in last.get("agencies", {}).items():
            for figure in ("rostered", "registered", "covered"):
                figures.add_metric([agency, figure], counts[figure])
        owed = GaugeMetricFamily(
            "jamsos_bpjs_owed_rupiah", "Contributions past due and unpaid, per NPP (Rupiah).",
            labels=["npp"])
        overdue = GaugeMetricFamily(
            "jamsos_bpjs_days_overdue", "Days the oldest unpaid month of an NPP is past due.",
            labels=["npp"])
        for employer in last.get("employers", []):
            if employer.get("billed"):
                owed.add_metric([employer["npp"]], employer["owed"])
                overdue.add_metric([employer["npp"]], employer["days_overdue"])
        differences = GaugeMetricFamily(
            "jamsos_reconcile_differences", "Worker-level differences with BPJS, by kind.",
            labels=["kind"])
        for kind, n in last.get("differences", {}).items():
            differences.add_metric([kind], n)
        yield figures
        yield owed
        yield overdue
        yield differences


@bp.record_once
def _register(state: Any) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RegistryCollector(state.app))
    state.app.extensions["jamsos_metrics"] = registry


@bp.get("/metrics")
def metrics() -> Response:
    registry = current_app.extensions["jamsos_metrics"]
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@bp.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Any:
    """Ready when the database answers and is at the head revision. Checks only: never
    migrates (a load balancer polls this every few seconds)."""
    engine = current_app.extensions["jamsos"].engine
    try:
        db.ping(engine)
        current, head = db.current_revision(engine), db.head_revision()
    except Exception as exc:
        return {"status": "unavailable", "database": f"{type(exc).__name__}: {exc}"[:300]}, 503
    if current != head:
        return {"status": "unavailable", "schema": current, "expected": head}, 503
    if rekey.pending(engine):  # migrated, its data step not run: the gateway will not start
        return {"status": "unavailable", "schema": current,
                "pending": "record digests to re-key: run `jamsos db upgrade`"}, 503  # fmt: skip
    return {"status": "ready", "schema": current}
