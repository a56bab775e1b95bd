"""Pure helpers of the dashboard: masking, feed health against cron schedules, charts, users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.sources.health import Feed, _judge, latest_due
from gateway.web.charts import Bar, bar_chart, sparkline
from gateway.web.i18n import schedule_text
from gateway.web.masking import mask_name


@pytest.mark.parametrize(
    ("name", "shown"),
    [("Siti Rahayu Wulandari", "Siti R. W."), ("Sukarno", "Su***"), ("  ", ""),
     ("Ni Made Ayu", "Ni M. A."), ("SITI_RAHAYU_WULANDARI S.Pd", "SITI R. W. S. P."),
     ("Muhammad.Rizky Pratama", "Muhammad. R. P."), ("SitiRahayuWulandari", "Si***"),
     ('=HYPERLINK("http://x.example/?leak","klik saya")', "=H*** e. s.")],
)
def test_mask_name(name: str, shown: str) -> None:
    assert mask_name(name) == shown


NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


def test_latest_due_allows_a_grace_after_the_scheduled_time() -> None:
    assert latest_due("0 2 * * *", NOW) == datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
    # At 02:30 today's 02:00 run may still be running: yesterday's is the one due.
    early = datetime(2025, 3, 10, 2, 30, tzinfo=UTC)
    assert latest_due("0 2 * * *", early) == datetime(2025, 3, 9, 2, 0, tzinfo=UTC)
    assert latest_due("15 * * * *", NOW) == datetime(2025, 3, 10, 8, 15, tzinfo=UTC)


def _feed(status: str | None, ok_hours_ago: float | None, schedule: str | None,
          source: str = "kemenkes-ppnpn") -> Feed:
    last = None if status is None else {"status": status, "rows": 10, "rejected": 1}
    ok = None if ok_hours_ago is None else NOW - timedelta(hours=ok_hours_ago)
    return Feed("kemenkes", source, schedule=schedule, last=last, last_ok_at=ok)


@pytest.mark.parametrize(
    ("feed", "health"),
    [
        (_feed(None, None, "0 2 * * *"), "never"),
        (_feed("succeeded", 7, "0 2 * * *"), "healthy"),  # today's 02:00 run
        (_feed("succeeded", 31, "0 2 * * *"), "stale"),  # yesterday's: today's is missing
        (_feed("failed", 7, "0 2 * * *"), "failing"),
        (_feed("rejected", 1, None), "failing"),
        (_feed("running", 31, "0 2 * * *"), "running"),
        (_feed("succeeded", 24 * 60, None, source="upload"), "healthy"),
        (_feed("succeeded", 24 * 100, None, source="upload"), "stale"),  # quarterly missed
        (_feed("succeeded", 24 * 400, None), "healthy"),  # manual source: no expectation
    ],
)
def test_feed_health(feed: Feed, health: str) -> None:
    _judge(feed, NOW, upload_stale_days=92)
    assert feed.health == health


def test_schedule_in_words() -> None:
    # The footer says times are WIB: the scheduler's UTC beside it.
    assert schedule_text("0 2 * * *") == ("harian 09:00 WIB (02:00 UTC)",
                                          "daily 09:00 WIB (02:00 UTC)")  # fmt: skip
    assert schedule_text("0 3 * * 1")[1] == "weekly, Monday 03:00 UTC (10:00 WIB)"
    assert schedule_text("0 5 1 * *")[0] == "bulanan, tgl 1 05:00 UTC (12:00 WIB)"
    assert schedule_text("30 20 * * 5")[1] == "weekly, Friday 20:30 UTC (03:30 WIB the next day)"
    assert schedule_text("*/5 * * * *") == ("*/5 * * * *", "*/5 * * * *")


def test_charts_are_self_contained_svg() -> None:
    spark = sparkline([0.0, 0.1, None, 0.3], label="trend")
    assert spark.startswith("<svg") and "http" not in spark.replace(
        "http://www.w3.org", "")
    chart = bar_chart([Bar("Kabupaten <Muaro> Jambi", (10, 20), note="gap", highlight=True)],
                      [("a", "#000"), ("b", "#111")], title="t")
    assert "&lt;Muaro&gt;" in chart and "<script" not in chart


def test_users_cli_creates_and_refuses_short_passwords(tmp_path: Any) -> None:
    from gateway.cli import main

    env = {"JAMSOS_INSTANCE_PATH": str(tmp_path / "inst"), "JAMSOS_CONFIG_FILE": ""}
    runner = CliRunner()
    result = runner.invoke(main, ["users", "create", "budi", "--password-stdin"],
                           input="pendek\n", env=env)
    assert result.exit_code != 0 and "minimal" in result.output
    result = runner.invoke(main, ["users", "create", "Budi", "--role", "operator",
                                  "--password-stdin"], input="cukup-panjang-sekali\n", env=env)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(main, ["users", "list"], env=env)
    assert "budi" in listed.output and "operator" in listed.output
    again = runner.invoke(main, ["users", "create", "budi", "--password-stdin"],
                          input="cukup-panjang-sekali\n", env=env)
    assert again.exit_code != 0 and "sudah ada" in again.output
    spaces = runner.invoke(main, ["users", "create", "ani", "--password-stdin"],
                           input=" " * 12 + "\n", env=env)  # fmt: skip
    assert spaces.exit_code != 0 and "not only spaces" in spaces.output


def test_durations_are_written_the_pages_way() -> None:
    """The run page showed "0.4 s" on the Indonesian page: the one unlocalised number."""
    from flask import Flask

    from gateway.web.i18n import fmt_duration

    app = Flask(__name__)
    app.secret_key = "test"
    with app.test_request_context("/?lang=id"):
        assert fmt_duration(0.43) == "0,4 s" and fmt_duration(75) == "1 min 15 s"
    with app.test_request_context("/?lang=en"):
        assert fmt_duration(0.43) == "0.4 s"
