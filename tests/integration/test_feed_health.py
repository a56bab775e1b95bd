"""Feed health as compliance staff read it (dashboard, /metrics, the daily report)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from gateway.sources.health import judge_feeds
from gateway.store.feed_health import read_feed_runs
from gateway.store.tables import runs

SOURCE = {"agency": "15.05", "id": "roster-qa", "schedule": None, "title": "Roster QA"}


def load_feeds(engine, sources):
    return judge_feeds(read_feed_runs(engine), sources)


def finished(gw, agency: str, status: str) -> int:
    run_id = gw.registry.start_run(agency=agency, source="roster-qa", trigger="cli")
    with gw.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id)
                     .values(status=status, finished_at=datetime.now(UTC)))  # fmt: skip
    return run_id


def test_a_corrected_agency_leaves_no_feed_failing_forever(gw):
    finished(gw, "15.5", "failed")  # the sources file said 15.5: unknown agency
    before = {(f.agency, f.source): f.health for f in load_feeds(gw.engine, [SOURCE])}
    # Until the corrected source has run, the failure is what there is to see.
    assert before == {("15.5", "roster-qa"): "failing"}
    finished(gw, "15.05", "succeeded")  # corrected to 15.05, synced
    after = {(f.agency, f.source): f.health for f in load_feeds(gw.engine, [SOURCE])}
    assert after == {("15.05", "roster-qa"): "healthy"}  # the 15.5 pair stayed "failing"


def test_runs_of_an_agency_after_the_configured_one_still_show(gw):
    # A source moved to another agency and back, or two agencies' runs of an unconfigured
    # source: only runs older than the configured agency's latest are its past.
    finished(gw, "15.05", "succeeded")
    finished(gw, "15.06", "failed")
    shown = {(f.agency, f.source) for f in load_feeds(gw.engine, [SOURCE])}
    assert shown == {("15.05", "roster-qa"), ("15.06", "roster-qa")}


def test_a_sync_that_finds_nothing_new_keeps_a_feed_healthy(gw, tmp_path):
    """No run is recorded when nothing is new: a healthy monthly file feed looked stale, and
    a feed whose last run failed kept failing after it came back with the same file."""
    from datetime import timedelta

    from gateway.roster.sync import sync_source
    from gateway.sources.loader import make_plugin_manager, source_catalog

    daily = dict(SOURCE, id="kemendes-pendamping", agency="kemendes", schedule="0 2 * * *")
    first = gw.registry.start_run(agency="kemendes", source="kemendes-pendamping",
                                  trigger="airflow")  # fmt: skip
    gw.registry.fail_run(first, "FileNotFoundError: drop")
    long_ago = datetime.now(UTC) - timedelta(days=3)
    with gw.engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == first).values(started_at=long_ago))
    (feed,) = load_feeds(gw.engine, [daily])
    assert feed.health == "failing"
    drop = tmp_path / "drop"
    drop.mkdir()  # back, with no new file
    pm = make_plugin_manager()
    source = source_catalog(pm, {"kemendes-pendamping": {"folder": str(drop)}})
    result = sync_source(gw.registry, pm, source["kemendes-pendamping"].create(),
                         today=date.today(), trigger="airflow")  # fmt: skip
    assert result.status == "nothing_new" and len(gw.registry.list_runs()) == 1  # no run
    (feed,) = load_feeds(gw.engine, [daily])
    assert feed.health == "healthy" and feed.staleness < 60  # was failing, then stale
