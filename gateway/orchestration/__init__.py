"""The Python API the scheduler calls: the Airflow DAGs in `dags/` are thin wrappers of it.

    specs = sync_specs()                      # cheap: what DAGs to generate (no DB, no keys)
    # plan.py: the pool, assets, deadline, param check; alerting.py: Airflow's callbacks;
    # delivery.py: the delivery DAGs; uploads.py: the registry watch
    summary = run_sync("kemenkes-ppnpn", trigger="airflow", external_id="dag/run")
    results = run_budget_checks(2025)         # every government with data, or one
    report = daily_report()                   # coverage and stale or failing sources

Nothing here imports Airflow: the same functions serve any scheduler (cron, systemd timers,
Kubernetes CronJobs) and are tested without one. Every function returns a small JSON-able
dict (it becomes an XCom) and takes the configuration the way `jamsos` does (defaults ->
config/gateway.toml or $JAMSOS_CONFIG_FILE -> $JAMSOS_*), so a worker configured like the
gateway writes to the gateway's database with the gateway's keys.

A sync goes through `gateway.roster.sync.sync_source`, exactly as `jamsos sync SOURCE` does, so an
Airflow run leaves the same run record (trigger "airflow", the DAG and run id in
`external_id`). Only after that record is written does `run_sync` raise, so the Airflow task
fails with the gateway already showing why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gateway import clock
from gateway.config import load_config
from gateway.domain.schedules import effective_schedule
from gateway.orchestration.plan import changed_registry, publishes
from gateway.sources.loader import load_source_settings, make_plugin_manager, source_catalog

if TYPE_CHECKING:
    from gateway.runtime import Gateway

# Task defaults of every Jamsos DAG (plain values: dags/ passes them to Airflow). A feed that
# is down at 02:00 is usually back within the hour: Airflow waits between the base delay and
# twice it, per task instance, so the retries come after 5-10, 10-20 and 20-40 minutes, never
# more than an hour apart. Airflow 3 reads retry_exponential_backoff as the multiplier, so
# True (== 1.0) would mean a constant delay: 2.0 doubles it.
TASK_DEFAULTS: dict[str, Any] = {
    "owner": "jamsos",
    "retries": 3,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(hours=1),
    # A national roster takes minutes; hours means a hung peer. Killing the task rolls the
    # run's transaction back and the run is recorded failed (or marked interrupted).
    "execution_timeout": timedelta(hours=4),
}
# The retry policy from the environment of the DAG processor and workers (set the same on
# both): an office with a flaky link may want more retries, a test wants seconds.
RETRY_ENV = {
    "retries": "JAMSOS_AIRFLOW_RETRIES",
    "retry_delay": "JAMSOS_AIRFLOW_RETRY_DELAY_SECONDS",
    "max_retry_delay": "JAMSOS_AIRFLOW_MAX_RETRY_DELAY_SECONDS",
}
# Fixed, in the past, never "now": a moving start_date makes the scheduler misbehave.
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
SYNC_DAG_PREFIX = "jamsos_sync_"
# Secret-bearing settings neutralised when only the source catalog is needed (DAG parsing):
# load_config would otherwise read $file: and $env: references.
_NO_SECRETS = {"DATA_KEYS": None, "INDEX_KEY": None, "RECEIPT_KEY": None, "DATABASE_URL": None}


def task_defaults() -> dict[str, Any]:
    """TASK_DEFAULTS with the retry policy's environment overrides (RETRY_ENV)."""
    out = dict(TASK_DEFAULTS)
    for key, name in RETRY_ENV.items():
        value = os.environ.get(name)
        if not value:
            continue
        try:
            number = int(value)
        except ValueError as exc:
            raise ValueError(f"{name} must be a whole number, got {value!r}") from exc
        out[key] = number if key == "retries" else timedelta(seconds=number)
    return out


@dataclass(frozen=True)
class SyncSpec:
    """What the scheduler needs to know about one source, without instantiating it."""

    source_id: str
    agency: str
    kind: str
    schedule: str | None
    title: str
    plugin: str

    @property
    def dag_id(self) -> str:
        return f"{SYNC_DAG_PREFIX}{self.source_id}"

    @property
    def publishes(self) -> str:
        """The Airflow asset a successful sync that changed something updates."""
        return publishes(self.kind)


class SyncFailed(Exception):
    """A sync did not succeed; its run is already recorded. Worth retrying (a feed down)."""

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        super().__init__(
            f"sync {summary['source']} {summary['status']} (gateway run "
            f"{summary.get('run_id')}): {summary.get('error') or 'see the run report'}"
        )


class NotRetryable(Exception):
    """A task failure no retry can change: the DAGs fail the task at once (retrying only held
    back the next run, with `max_active_runs=1`, and said the same thing again)."""


class SyncRejected(SyncFailed, NotRetryable):
    """The feed answered, but nothing in it was acceptable: retrying the same data will not
    help, the agency must correct it. The DAG fails the task without retries."""


class BudgetYearNotCovered(NotRetryable):
    """A budget check of a year the rate tables do not cover (gateway.budget.check.RatesNotInForce):
    the tables must be extended, or another year checked."""


class UnknownSource(LookupError):
    """No configured source has this id (a DAG outlived its plugin or its settings)."""


def sync_specs(overrides: Mapping[str, Any] | None = None) -> list[SyncSpec]:
    """Every schedulable source: the plugins' classes and config/sources.toml instances.

    Cheap enough for every DAG parse: reads entry points and class attributes; opens no
    database, reads no key, creates no SOAP client. A class without an agency (the generic
    regional roster) is a template whose configured instances are the sources.
    """
    config = load_config({**_NO_SECRETS, **(overrides or {})})
    catalog = source_catalog(make_plugin_manager(), load_source_settings(config))
    window = int(config["SCHEDULE_SPREAD_MINUTES"])
    specs = []
    for sid, entry in catalog.items():
        agency = str(entry.settings.get("agency") or entry.cls.agency or "")
        if not agency:
            continue
        # A template's instances (514 regional rosters) share the class's time: each
        # government gets its own minute of a window (gateway/domain/schedules.py).
        schedule = effective_schedule(entry.cls.schedule, entry.cls.agency, entry.settings, window)
        specs.append(
            SyncSpec(
                source_id=sid,
                agency=agency,
                kind=entry.cls.kind,
                schedule=schedule,
                title=entry.cls.title or sid,
                plugin=entry.plugin,
            )
        )
    return specs


@contextmanager
def open_gateway(overrides: Mapping[str, Any] | None = None) -> Iterator[Gateway]:
    """The gateway runtime for one task, its connections closed afterwards: a Celery worker
    lives long and must not keep a pool per task."""
    from gateway.runtime import Gateway

    gw = Gateway(load_config(overrides))
    try:
        yield gw
    finally:
        if "engine" in gw.__dict__:
            gw.engine.dispose()


def run_sync(
    source_id: str,
    *,
    trigger: str = "airflow",
    external_id: str | None = None,
    full: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Sync one source now, as `jamsos sync SOURCE` does, and return a short summary.

    Its `changed` says whether the registry changed (the DAG then updates the source's
    asset). Raises SyncRejected (nothing acceptable) or SyncFailed (anything else that is not
    a success) after the gateway has recorded the run; "nothing new" is a success.
    """
    from gateway.roster.sync import sync_source

    with open_gateway(overrides) as gw:
        catalog = gw.sources()
        if source_id not in catalog:
            raise UnknownSource(
                f"unknown source {source_id!r} / sumber tidak dikenal; known: "
                f"{', '.join(catalog) or '-'}"
            )
        source = catalog[source_id].create()
        result = sync_source(
            gw.registry,
            gw.plugins,
            source,
            today=clock.today(),
            trigger=trigger,
            full=full,
            batch_size=gw.config["BATCH_SIZE"],
            external_id=external_id,
        )
    summary = _sync_summary(result, source.agency, trigger, external_id)
    summary["changed"] = changed_registry(summary)
    if result.status == "rejected":
        raise SyncRejected(summary)
    if result.status not in ("succeeded", "nothing_new"):
        raise SyncFailed(summary)
    return summary


def _sync_summary(result: Any, agency: str, trigger: str, external_id: str | None) -> dict:
    """The counts, never the problems: an XCom is no place for a 10,000-row report (the
    gateway's run page has it)."""
    out: dict[str, Any] = {
        "source": result.source,
        "agency": agency,
        "status": result.status,
        "trigger": trigger,
        "external_id": external_id,
        "run_id": result.run_id,
    }
    report = result.report
    if report is not None:
        out.update(
            rows=report.rows,
            accepted=report.accepted,
            rejected=report.rejected,
            warnings=report.warnings,
            changes=report.changes,
            replayed=report.replayed,
            error=report.error,
        )
    if result.message:
        out["message_id"], out["message_en"] = result.message
    if result.stats:
        out["stats"] = {k: v for k, v in result.stats.items() if isinstance(v, int | float | str)}
    if result.warnings:
        out["plugin_warnings"] = result.warnings
    return out


def budget_governments(year: int, overrides: Mapping[str, Any] | None = None) -> list[str]:
    """Every regional government with enrollments or an allocation for `year`."""
    from gateway.store.budget import governments_with_data

    with open_gateway(overrides) as gw:
        return governments_with_data(gw.registry.engine, year)


def run_budget_check(
    government: str, year: int, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One government's budget-allocation check, as `jamsos budget check` computes it. A
    shortfall is a finding, not a failure: the result says so and the task succeeds."""
    from gateway.budget.check import RatesNotInForce, check_budget
    from gateway.budget.rates import load_packages, load_schedule
    from gateway.domain.agencies import resolve_agency

    agency = resolve_agency(government)
    with open_gateway(overrides) as gw:
        try:
            check = check_budget(
                gw.registry.engine,
                agency.code,
                year,
                schedule=load_schedule(),
                packages=load_packages(),
            )
        except RatesNotInForce as exc:
            raise BudgetYearNotCovered(f"{agency.code} {year}: {exc}") from exc
    return {
        "government": agency.code,
        "name": agency.name,
        "fiscal_year": year,
        "status": check.status,
        "workers": check.workers,
        "allocated": check.allocated,
        "obligation": check.obligation,
        "gap": check.gap,
        "allocation_source": check.allocation_source,
        "disagreement": check.disagreement,
    }


def run_budget_checks(
    year: int, government: str | None = None, overrides: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The check of one government, or of every government with data for `year`."""
    codes = [government] if government else budget_governments(year, overrides)
    return [run_budget_check(code, year, overrides) for code in codes]


def summarize_budget(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of a month's checks: how many governments fall short, and by how much."""
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    short = sorted((r for r in results if r["status"] != "sufficient"), key=lambda r: -r["gap"])
    return {
        "governments": len(results),
        "by_status": by_status,
        "total_gap": sum(r["gap"] for r in results),
        "attention": [{k: r[k] for k in ("government", "name", "status", "gap")} for r in short],
    }


def feed_health(
    overrides: Mapping[str, Any] | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Every source's health, and those needing attention: failing, stale or never run.

    Judged as the dashboard and /metrics judge it (gateway.sources.health): the last run failed
    or was rejected, or no success since the schedule last expected one.
    """
    now = now or datetime.now(UTC)
    with open_gateway(overrides) as gw:
        feeds = gw.feeds(now=now, with_trend=False)
    counts: dict[str, int] = {}
    for f in feeds:
        counts[f.health] = counts.get(f.health, 0) + 1
    attention = [
        {
            "agency": f.agency,
            "source": f.source,
            "health": f.health,
            "schedule": f.schedule,
            "last_run_id": f.last["id"] if f.last else None,
            "last_status": f.last["status"] if f.last else None,
            "last_error": (f.last["error"] or "")[:300] if f.last else None,
            "last_success": f.last_ok_at.isoformat() if f.last_ok_at else None,
        }
        for f in feeds
        if f.health in ("failing", "attention", "stale", "never")
    ]
    return {"checked_at": now.isoformat(), "counts": counts, "attention": attention}


def coverage_report(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Active enrollments against targets (config/targets.toml or $JAMSOS_TARGETS_FILE)."""
    from gateway.budget.coverage import coverage, load_targets

    with open_gateway(overrides) as gw:
        found = coverage(gw.registry.engine, load_targets())
    keep = ("code", "name", "enrolled", "target", "percent", "gap")
    # Provinces hold every regional enrollment once, agencies every ministry's.
    total = sum(r["enrolled"] for r in (*found["provinces"], *found["agencies"]))
    return {
        "enrolled_total": total,
        **{kind: [{k: r[k] for k in keep} for r in rows] for kind, rows in found.items()},
    }


def daily_report(
    overrides: Mapping[str, Any] | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """Feed health and coverage in one document (the DAG computes the two in parallel)."""
    return {"feeds": feed_health(overrides, now=now), "coverage": coverage_report(overrides)}
