"""A stale upload's "expected since" is the date the next roster was due: the last good
upload plus UPLOAD_STALE_DAYS (issue 21). It was counted back from now, so it moved every
day and named a date nothing was expected on."""

from __future__ import annotations

from datetime import timedelta

from gateway import clock
from gateway.domain.agencies import resolve_agency
from gateway.roster.submit import submit_roster
from gateway.sources.health import judge_feeds
from gateway.store.feed_health import read_feed_runs
from tests.helpers.roster import worker_row, write_roster


def _upload_feed(gw, now):
    [feed] = [f for f in judge_feeds(read_feed_runs(gw.registry.engine), [], now=now,
                                     upload_stale_days=90) if f.source == "upload"]  # fmt: skip
    return feed


def test_the_expected_date_is_counted_from_the_last_upload(gw, tmp_path):
    submit_roster(gw.registry, write_roster(tmp_path / "r.csv", [worker_row(0)]),
                  agency=resolve_agency("15.05"), today=clock.today(), trigger="web")
    first = _upload_feed(gw, now=None)
    uploaded = first.last_ok_at
    assert first.health == "healthy" and first.due == uploaded + timedelta(days=90)
    for days_later in (100, 200):
        feed = _upload_feed(gw, uploaded + timedelta(days=days_later))
        assert feed.health == "stale"
        assert feed.due == uploaded + timedelta(days=90)  # the same date, however late
    assert _upload_feed(gw, uploaded + timedelta(days=89)).health == "healthy"
