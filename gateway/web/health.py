"""Feed health: every source with its last run, status and staleness against its schedule.

A "feed" is one (agency, source) pair of the `runs` table (a regional government's uploads
are its source "upload"), merged with every source configured through the plugins, so a
source that never ran shows too. Shared by the overview page and /metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import Engine, case, func, select

from gateway.clock import WIB
from gateway.store.db import aware
from gateway.store.tables import runs, source_state

# Regional governments report their headcount quarterly (SE Mendagri 842.2/5193/SJ): an upload
# source with no newer roster after this long is stale. Setting UPLOAD_STALE_DAYS overrides.
UPLOAD_STALE_DAYS = 92
_WIB_HOURS = int(WIB.utcoffset(None).total_seconds() // 3600)  # type: ignore[union-attr]
TREND_RUNS = 12  # runs in the reject-rate sparkline
# Order of the overview: what needs action first.
HEALTH_ORDER = {"failing": 0, "stale": 1, "never": 2, "running": 3, "healthy": 4}


@dataclass
class Feed:
    agency: str
    source: str
    schedule: str | None = None
    title: str = ""
    configured: bool = False
    runs: int = 0
    last: dict[str, Any] | None = None
    last_ok_at: datetime | None = None
    checked_at: datetime | None = None  # a sync found nothing new (no run recorded)
    due: datetime | None = None  # the latest time a successful run was expected by
    health: str = "never"
    trend: list[float | None] = field(default_factory=list)

    @property
    def reject_rate(self) -> float | None:
        if not self.last or not self.last["rows"]:
            return None
        return self.last["rejected"] / self.last["rows"]

    @property
    def staleness(self) -> float | None:
        """Seconds since the last successful run started (None: never succeeded)."""
        if self.last_ok_at is None:
            return None
        return (datetime.now(UTC) - self.last_ok_at).total_seconds()


def latest_due(schedule: str, now: datetime) -> datetime:
    """When the newest run a cron schedule expects should have happened by, allowing it a
    grace to start and finish: an hour, or half the interval for schedules more frequent
    than two hours. croniter keeps the cron dialect exactly as the scheduler reads it."""
    it = croniter(schedule, now)
    following = it.get_next(datetime)
    it = croniter(schedule, now)
    previous = it.get_prev(datetime)
    grace = min(timedelta(hours=1), (following - previous) / 2)
    return croniter(schedule, now - grace).get_prev(datetime)


_DAYS = (("Minggu", "Sunday"), ("Senin", "Monday"), ("Selasa", "Tuesday"), ("Rabu", "Wednesday"),
         ("Kamis", "Thursday"), ("Jumat", "Friday"), ("Sabtu", "Saturday"))


def schedule_text(schedule: str) -> tuple[str, str]:
    """Common cron patterns in words (Bahasa Indonesia, English); others as written. The
    scheduler reads cron in UTC; the dashboard's times are WIB (UTC+7), so both are given:
    "harian 09:00 WIB (02:00 UTC)". A weekly or monthly day is the scheduler's (UTC) day."""
    parts = schedule.split()
    if len(parts) != 5 or not parts[0].isdigit():
        return schedule, schedule
    minute, hour, day, month, weekday = parts
    if hour == "*" and day == month == weekday == "*":
        return f"tiap jam, menit {minute}", f"hourly at minute {minute}"
    if not hour.isdigit() or month != "*":
        return schedule, schedule
    utc = f"{int(hour):02d}:{int(minute):02d} UTC"
    wib_hour = int(hour) + _WIB_HOURS
    wib = f"{wib_hour % 24:02d}:{int(minute):02d} WIB"
    if day == weekday == "*":
        return f"harian {wib} ({utc})", f"daily {wib} ({utc})"
    # Past 17:00 UTC the WIB time is on the next day.
    next_id, next_en = (" keesokan harinya", " the next day") if wib_hour >= 24 else ("", "")
    if day == "*" and weekday.isdigit() and int(weekday) <= 7:
        name_id, name_en = _DAYS[int(weekday) % 7]
        return (f"mingguan, {name_id} {utc} ({wib}{next_id})",
                f"weekly, {name_en} {utc} ({wib}{next_en})")  # fmt: skip
    if weekday == "*" and day.isdigit():
        return (f"bulanan, tgl {day} {utc} ({wib}{next_id})",
                f"monthly, day {day} {utc} ({wib}{next_en})")  # fmt: skip
    return schedule, schedule


def valid_schedule(schedule: str | None) -> bool:
    return bool(schedule) and croniter.is_valid(schedule)  # type: ignore[arg-type]


def configured_sources(gw: Any) -> list[dict[str, Any]]:
    """Sources the plugins provide (id, agency, schedule, title); [] before plugins exist or
    when they cannot be loaded: the overview then shows the runs it has."""
    sources = getattr(gw, "sources", None)
    if sources is None:
        return []
    try:
        catalog = sources() if callable(sources) else sources
    except Exception:  # a broken plugin must not take the compliance overview down
        return []
    out = []
    for sid, entry in dict(catalog).items():
        cls = getattr(entry, "cls", entry)
        settings = getattr(entry, "settings", {}) or {}
        if not (settings.get("agency") or getattr(cls, "agency", "")):
            continue  # a template (e.g. the generic regional roster): its instances are feeds
        out.append(
            {
                "id": sid,
                "agency": str(settings.get("agency") or getattr(cls, "agency", "") or "-"),
                "schedule": settings.get("schedule") or getattr(cls, "schedule", None),
                "title": getattr(cls, "title", "") or "",
            }
        )
    return out


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


RUN_COLUMNS = (
    runs.c.id,
    runs.c.agency,
    runs.c.source,
    runs.c.status,
    runs.c.trigger,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.rows,
    runs.c.accepted,
    runs.c.rejected,
    runs.c.error,
)


def load_feeds(
    engine: Engine,
    sources: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    upload_stale_days: int = UPLOAD_STALE_DAYS,
    with_trend: bool = True,
) -> list[Feed]:
    """Every feed, worst first. Three queries over `runs` whatever its size: the groups, their
    latest and latest successful runs, and (for the sparklines) each group's latest runs."""
    now = now or datetime.now(UTC)
    ok_id = func.max(case((runs.c.status == "succeeded", runs.c.id)))
    groups = select(
        runs.c.agency, runs.c.source, func.max(runs.c.id), ok_id, func.count()
    ).group_by(runs.c.agency, runs.c.source)
    feeds: dict[tuple[str, str], Feed] = {}
    with engine.connect() as conn:
        found = conn.execute(groups).all()
        wanted = sorted({i for _, _, last, ok, _ in found for i in (last, ok) if i is not None})
        by_id: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(wanted):
            for r in conn.execute(select(*RUN_COLUMNS).where(runs.c.id.in_(chunk))).mappings():
                by_id[r["id"]] = dict(r)
        trends = _trends(conn) if with_trend else {}
        checks = dict(
            conn.execute(
                select(source_state.c.source, source_state.c.checked_at).where(
                    source_state.c.checked_at.is_not(None)
                )
            ).all()
        )
    for agency, source, last_id, ok, count in found:
        feed = Feed(agency, source, runs=count, last=by_id.get(last_id))
        if ok is not None:
            feed.last_ok_at = aware(by_id[ok]["started_at"])
        feed.trend = trends.get((agency, source), [])
        feeds[(agency, source)] = feed
    for src in sources:
        key = (src["agency"], src["id"])
        feed = feeds.get(key) or next(
            (f for (_, s), f in feeds.items() if s == src["id"]), None
        )
        if feed is None:
            feed = feeds[key] = Feed(src["agency"], src["id"])
        feed.configured = True
        feed.schedule = src["schedule"]
        feed.title = src["title"]
        _drop_superseded(feeds, key)
    for feed in feeds.values():
        checked = aware(checks.get(feed.source))
        if checked is not None and feed.source != "upload":
            feed.checked_at = checked
            # Nothing new is no news, not staleness: the feed answered.
            if feed.last_ok_at is None or checked > feed.last_ok_at:
                feed.last_ok_at = checked
        _judge(feed, now, upload_stale_days)
    return sorted(
        feeds.values(), key=lambda f: (HEALTH_ORDER[f.health], f.agency, f.source)
    )


def _drop_superseded(feeds: dict[tuple[str, str], Feed], key: tuple[str, str]) -> None:
    """A source whose agency was corrected (a typo, "15.5" for "15.05") left runs under the
    old agency: once the source has run under its configured agency, those older runs are
    its past, not a second feed forever "failing" on the dashboard and in /metrics."""
    current = feeds.get(key)
    if current is None or current.last is None:
        return
    for other in [k for k in feeds if k[1] == key[1] and k != key]:
        last = feeds[other].last
        if last is None or last["id"] < current.last["id"]:
            del feeds[other]


def _judge(feed: Feed, now: datetime, upload_stale_days: int) -> None:
    if feed.source == "upload" and not feed.schedule:
        feed.due = now - timedelta(days=upload_stale_days)
    elif valid_schedule(feed.schedule):
        feed.due = latest_due(feed.schedule, now)  # type: ignore[arg-type]
    if feed.last is None:
        feed.health = "never"
    elif feed.last["status"] == "running":
        feed.health = "running"
    elif feed.last["status"] in ("failed", "rejected") and not (
        feed.checked_at is not None
        and feed.checked_at > aware(feed.last["started_at"])  # type: ignore[operator]
    ):  # a later sync that found nothing new: the feed is back (with the same file)
        feed.health = "failing"
    elif feed.due is not None and (feed.last_ok_at is None or feed.last_ok_at < feed.due):
        feed.health = "stale"
    else:
        feed.health = "healthy"


def _trends(conn: Any) -> dict[tuple[str, str], list[float | None]]:
    """Reject rate of each group's latest TREND_RUNS finished runs, oldest first."""
    rank = (
        func.row_number()
        .over(partition_by=(runs.c.agency, runs.c.source), order_by=runs.c.id.desc())
        .label("rank")
    )
    inner = (
        select(runs.c.agency, runs.c.source, runs.c.id, runs.c.rows, runs.c.rejected, rank)
        .where(runs.c.status != "running")
        .subquery()
    )
    query = (
        select(inner.c.agency, inner.c.source, inner.c.rows, inner.c.rejected)
        .where(inner.c.rank <= TREND_RUNS)
        .order_by(inner.c.agency, inner.c.source, inner.c.id)
    )
    out: dict[tuple[str, str], list[float | None]] = {}
    for agency, source, rows, rejected in conn.execute(query):
        out.setdefault((agency, source), []).append(rejected / rows if rows else None)
    return out


def health_counts(feeds: list[Feed]) -> dict[str, int]:
    counts = dict.fromkeys(HEALTH_ORDER, 0)
    for f in feeds:
        counts[f.health] += 1
    return counts
