"""The day it is for the gateway: in Western Indonesia Time (WIB, UTC+7), whatever time zone
the server, the container or the Airflow worker runs in.

A run's day is written into the registry (an ended worker's end date is "the day of the run")
and decides which dates are "in the future". It came from each process's local time zone: on
a UTC host every run between 00:00 and 07:00 WIB recorded the day before, and the CLI, the
web server and Airflow could disagree about the same moment. WIB is the zone the dashboard
shows times in; Indonesia keeps no daylight saving, so a fixed offset is exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def today() -> date:
    """Today's date in WIB."""
    return datetime.now(WIB).date()


def aware(moment: datetime | None) -> datetime | None:
    """A moment with its zone: SQLite returns naive datetimes for timezone-aware columns, and
    they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
