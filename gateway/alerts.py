"""Raising alerts and handing them to the plugins that deliver them (issue 20).

    raise_alert(gw, kind="sync_failed", severity="error", agency="kemenkes",
                title_id="...", title_en="...", details={"source": "kemenkes-ppnpn"})
    check_alerts(gw)        # what the gateway notices itself, from the feeds' health

One way out for every alert, whoever raises it (the gateway's own checks here, Airflow's
callbacks in `gateway/orchestration/alerting.py`, the reconciliation): the alert
(`gateway/domain/alerts.py`) is recorded under its key (`store/alerts.py`: delivered once,
however many processes notice it, and again only after ALERT_REPEAT_HOURS), then each plugin
implementing the `send_alert` hook and configured with an `[alerts.<plugin>]` table in
config/gateway.toml gets it, one at a time: a plugin that fails is recorded and logged, the
others still deliver, and the raiser never fails because of it.

`check_alerts` reads the feeds as the dashboard judges them (`Gateway.feeds()`) and raises:

* `feed_late`: a scheduled source with no successful run since its schedule's due time (the
  dashboard's "stale"); once per missed due time.
* `sync_failed`: a source whose last run failed or was rejected and stayed so for
  ALERT_FAILED_AFTER_MINUTES (75: past Airflow's last retry, about 35-70 minutes); once per
  run. Airflow's failure callback raises the same kind at once after the last retry.
* `endings_unusual`: a run that ended more than ENDING_CONFIRM_SHARE of its agency's
  workers (confirmed, or with the share raised), or a sync refused because it would have
  (`endings_unconfirmed`, gateway/roster/endings.py); once per run.

Every gateway process runs it with its stale-run sweep (`Gateway.sweep`, every SWEEP_SECONDS).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from gateway.config import resolve_secret
from gateway.domain.alerts import (
    ENDINGS_UNUSUAL,
    FEED_LATE,
    SYNC_FAILED,
    Alert,
    AlertSettings,
    at_least,
)
from gateway.store import alerts as stored

log = logging.getLogger(__name__)

__all__ = ["Alert", "alert_settings", "check_alerts", "deliver", "raise_alert"]


class AlertingRuntime(Protocol):
    """What alerting needs of the runtime (gateway/runtime.py `Gateway`)."""

    config: dict[str, Any]

    @property
    def engine(self) -> Any: ...

    @property
    def plugins(self) -> Any: ...

    def feeds(self, *, now: datetime | None = None, with_trend: bool = True) -> list[Any]: ...


def alert_settings(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The `[alerts.<plugin>]` tables of the configuration file, by plugin name."""
    path = config.get("CONFIG_FILE")
    if not path:
        return {}
    with open(path, "rb") as fh:
        table = tomllib.load(fh).get("alerts", {})
    return {name: dict(values) for name, values in table.items() if isinstance(values, dict)}


def deliver(pm: Any, alert: Alert, settings: Mapping[str, Mapping[str, Any]]) -> tuple[
        list[str], dict[str, str]]:  # fmt: skip
    """Hand `alert` to each configured `send_alert` plugin whose `min_severity` (default
    "warning") it reaches; (plugins that took it, {plugin: error} of those that failed)."""
    took: list[str] = []
    failed: dict[str, str] = {}
    for impl in pm.hook.send_alert.get_hookimpls():
        values = settings.get(impl.plugin_name)
        if values is None:
            continue  # installed, not configured: not asked
        if not at_least(alert.severity, str(values.get("min_severity", "warning"))):
            continue
        kwargs = {"alert": alert, "settings": AlertSettings(values, resolve_secret)}
        try:
            impl.function(**{k: kwargs[k] for k in impl.argnames})
        except Exception as exc:
            failed[impl.plugin_name] = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("alert %s not delivered by plugin %s: %s", alert.key,
                        impl.plugin_name, failed[impl.plugin_name])  # fmt: skip
        else:
            took.append(impl.plugin_name)
    return took, failed


def send(gw: AlertingRuntime, alert: Alert) -> bool:
    """Record `alert` and deliver it, unless the same key was raised within
    ALERT_REPEAT_HOURS; True when it was delivered (or tried) now."""
    repeat = timedelta(hours=float(gw.config.get("ALERT_REPEAT_HOURS", 24)))
    if not stored.claim(gw.engine, alert, repeat):
        return False
    try:
        settings = alert_settings(gw.config)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        settings, failure = {}, {"config": f"{type(exc).__name__}: {exc}"[:300]}
    else:
        failure = {}
    took, failed = deliver(gw.plugins, alert, settings)
    stored.delivered(gw.engine, alert.key, took, {**failure, **failed})
    if not took:
        log.warning("alert raised, no plugin delivered it: %s", alert.subject)
    return True


def raise_alert(
    gw: AlertingRuntime,
    *,
    kind: str,
    severity: str,
    title_id: str,
    title_en: str,
    agency: str | None = None,
    details: Mapping[str, Any] | None = None,
    key: str = "",
    at: datetime | None = None,
) -> bool:
    """Raise one alert: the plain function for any raiser (Airflow's callbacks, the
    reconciliation). AlertError for a malformed one; True when delivered now, False when the
    same alert (`key`; by default kind, agency and English title) was raised within
    ALERT_REPEAT_HOURS."""
    alert = Alert(kind=kind, severity=severity, title_id=title_id, title_en=title_en,
                  agency=agency, details=details or {}, key=key,
                  at=at or datetime.now(UTC))  # fmt: skip
    return send(gw, alert)


def feed_alerts(feeds: list[Any], now: datetime, failed_after: timedelta | None) -> list[Alert]:
    """The alerts the feeds' health calls for (see the module's docstring)."""
    found: list[Alert] = []
    for feed in feeds:
        last = feed.last or {}
        error = str(last.get("error") or "")
        where = {"source": feed.source, "run_id": last.get("id")}
        if last.get("status") == "failed" and error.startswith("endings_unconfirmed"):
            found.append(Alert(
                ENDINGS_UNUSUAL, "error",
                f"Run {last['id']} ({feed.source}) ditolak: akan mengakhiri terlalu banyak "
                "pekerja; periksa datanya lalu konfirmasi jumlahnya",
                f"Run {last['id']} ({feed.source}) refused: it would end an unusual share "
                "of the agency's workers; check the data, then confirm the number",
                feed.agency, {**where, "error": error[:300]}, now,
                key=f"{ENDINGS_UNUSUAL}:run:{last['id']}"))  # fmt: skip
        elif feed.health == "failing" and feed.configured and failed_after is not None:
            finished = last.get("finished_at")
            if finished is not None and _aware(finished) <= now - failed_after:
                found.append(Alert(
                    SYNC_FAILED, "error",
                    f"Sinkronisasi {feed.source} masih gagal (run {last['id']}, {last['status']})",
                    f"Sync {feed.source} is still failing (run {last['id']}, {last['status']})",
                    feed.agency, {**where, "status": last.get("status"), "error": error[:300],
                                  "finished_at": _aware(finished)},
                    now, key=f"{SYNC_FAILED}:run:{last['id']}"))  # fmt: skip
        elif feed.health == "attention" and feed.attention == "ended":
            found.append(Alert(
                ENDINGS_UNUSUAL, "warning",
                f"Run {last['id']} ({feed.source}) mengakhiri {last.get('ended')} pekerja "
                f"{feed.agency}: di atas batas yang biasa",
                f"Run {last['id']} ({feed.source}) ended {last.get('ended')} of "
                f"{feed.agency}'s workers: above the usual share",
                feed.agency, {**where, "ended": last.get("ended"),
                              "kept": (last.get("changed") or 0) + (last.get("unchanged") or 0)},
                now, key=f"{ENDINGS_UNUSUAL}:run:{last['id']}"))  # fmt: skip
        if feed.health == "stale" and feed.configured and feed.schedule and feed.due:
            found.append(Alert(
                FEED_LATE, "warning",
                f"Sumber {feed.source} terlambat: belum ada run berhasil sejak "
                f"{feed.due:%Y-%m-%d %H:%M} UTC (jadwal {feed.schedule})",
                f"Feed {feed.source} is late: no successful run since {feed.due:%Y-%m-%d %H:%M}"
                f" UTC (schedule {feed.schedule})",
                feed.agency, {"source": feed.source, "schedule": feed.schedule,
                              "due": feed.due, "last_success": feed.last_ok_at},
                now, key=f"{FEED_LATE}:{feed.agency}:{feed.source}:{feed.due.isoformat()}"))
    return found


def check_alerts(gw: AlertingRuntime, *, now: datetime | None = None) -> list[Alert]:
    """Raise what the feeds' health calls for; the alerts delivered now (not repeats)."""
    now = now or datetime.now(UTC)
    minutes = int(gw.config.get("ALERT_FAILED_AFTER_MINUTES", 75))
    failed_after = timedelta(minutes=minutes) if minutes > 0 else None
    return [a for a in feed_alerts(gw.feeds(now=now, with_trend=False), now, failed_after)
            if send(gw, a)]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
