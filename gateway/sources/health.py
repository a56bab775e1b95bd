"""Feed health: every source with its last run, status and staleness against its schedule.

A "feed" is one (agency, source) pair of the `runs` table (a regional government's uploads
are its source "upload"), merged with every source configured through the plugins, so a
source that never ran shows too. The dashboard's overview, /metrics and the daily report all
judge it here (`Gateway.feeds()` reads the runs with `gateway/store/feed_health.py` and
judges them with `judge_feeds`); nothing here reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from croniter import croniter

from gateway.clock import aware
from gateway.domain.schedules import effective_schedule

if TYPE_CHECKING:
    from gateway.store.feed_health import FeedRuns

# Regional governments report their headcount quarterly (SE Mendagri 842.2/5193/SJ): an upload
# source with no newer roster after this long is stale. Setting UPLOAD_STALE_DAYS overrides.
UPLOAD_STALE_DAYS = 92
# Order of the overview: what needs action first.
HEALTH_ORDER = {"failing": 0, "attention": 1, "stale": 2, "never": 3, "running": 4, "healthy": 5}
# A feed whose last run ended more than this share of the agency's workers (of those it had:
# ended + changed + unchanged), or rejected more than REJECT_ATTENTION_SHARE of its rows,
# "needs attention" even though the run succeeded (issue 16: a partial roster ended 287 of
# 298 workers and the feed still showed healthy). ENDING_CONFIRM_SHARE and
# REJECT_ATTENTION_SHARE override them.
ENDING_ATTENTION_SHARE = 0.2
REJECT_ATTENTION_SHARE = 0.1


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
    attention: str | None = None  # why it needs attention: "ended" or "rejected"

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
                # As the DAGs run it: a regional roster at its government's spread minute.
                "schedule": effective_schedule(
                    getattr(cls, "schedule", None), getattr(cls, "agency", "") or "", settings,
                    int(getattr(gw, "config", {}).get("SCHEDULE_SPREAD_MINUTES", 0)),
                ),
                "title": getattr(cls, "title", "") or "",
            }
        )
    return out


def judge_feeds(
    found: FeedRuns,
    sources: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    upload_stale_days: int = UPLOAD_STALE_DAYS,
    ending_share: float = ENDING_ATTENTION_SHARE,
    reject_share: float = REJECT_ATTENTION_SHARE,
) -> list[Feed]:
    """Every feed, worst first: the pairs that have runs (`found`, from
    gateway.store.feed_health.read_feed_runs) merged with the configured `sources`."""
    now = now or datetime.now(UTC)
    feeds: dict[tuple[str, str], Feed] = {}
    for group in found.groups:
        feed = Feed(group.agency, group.source, runs=group.runs,
                    last=found.by_id.get(group.last_id))  # fmt: skip
        if group.ok_id is not None:
            feed.last_ok_at = aware(found.by_id[group.ok_id]["started_at"])
        feed.trend = found.trends.get((group.agency, group.source), [])
        feeds[(group.agency, group.source)] = feed
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
        checked = aware(found.checked_at.get(feed.source))
        if checked is not None and feed.source != "upload":
            feed.checked_at = checked
            # Nothing new is no news, not staleness: the feed answered.
            if feed.last_ok_at is None or checked > feed.last_ok_at:
                feed.last_ok_at = checked
        _judge(feed, now, upload_stale_days)
        _needs_attention(feed, ending_share, reject_share)
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
    upload = feed.source == "upload" and not feed.schedule
    if upload:
        # The next roster is expected UPLOAD_STALE_DAYS after the last good one: that date
        # is the "expected since" a stale upload shows, not one counted back from now.
        feed.due = (feed.last_ok_at + timedelta(days=upload_stale_days)
                    if feed.last_ok_at is not None else None)  # fmt: skip
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
    elif _late(feed, now, upload):
        feed.health = "stale"
    else:
        feed.health = "healthy"


def _late(feed: Feed, now: datetime, upload: bool) -> bool:
    """An upload is late once its expected date has passed; a scheduled feed once its last
    good run is older than the run its schedule expects."""
    if feed.due is None:
        return False
    if upload:
        return feed.due < now
    return feed.last_ok_at is None or feed.last_ok_at < feed.due


def _needs_attention(feed: Feed, ending_share: float, reject_share: float) -> None:
    """A succeeded last run that ended or rejected too much: healthy or stale is not the
    news, "attention" is (failing stays failing)."""
    last = feed.last
    if last is None or last["status"] != "succeeded" or feed.health not in ("healthy", "stale"):
        return
    ended = last.get("ended") or 0
    had = ended + (last.get("changed") or 0) + (last.get("unchanged") or 0)
    if had and ended / had > ending_share:
        feed.health, feed.attention = "attention", "ended"
    elif last["rows"] and (last["rejected"] or 0) / last["rows"] > reject_share:
        feed.health, feed.attention = "attention", "rejected"


def health_counts(feeds: list[Feed]) -> dict[str, int]:
    counts = dict.fromkeys(HEALTH_ORDER, 0)
    for f in feeds:
        counts[f.health] += 1
    return counts
