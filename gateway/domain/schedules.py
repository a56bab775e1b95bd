"""When a source is due: its own schedule, or its class's spread over a window.

A template source class (the generic regional roster) gives all its instances one time, and
514 regencies and cities starting at the same minute would queue on the registry together.
Each instance without a schedule of its own therefore runs at a minute of its government's
own inside a window starting at the class's time. The scheduler (gateway/orchestration, the
DAGs) and the feeds' health (gateway/sources/health.py: when a feed is late) both call
`effective_schedule`, so the dashboard expects a feed exactly when Airflow runs it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

_DAILY = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* \*$")


def spread_schedule(cron: str | None, key: str, window: int) -> str | None:
    """`cron` ("M H * * *", daily) moved to a fixed minute of the `window` minutes from it.

    The minute is a hash of `key` (the government's code): the same on every parse and every
    machine (Python's hash() is salted per process, so not that one). Any other expression,
    or a window of 0, is returned unchanged.
    """
    match = _DAILY.match(cron or "")
    if not match or window <= 0:
        return cron
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    offset = int.from_bytes(digest[:8], "big") % min(window, 24 * 60)
    start = int(match.group(2)) * 60 + int(match.group(1))
    at = (start + offset) % (24 * 60)
    return f"{at % 60} {at // 60} * * *"


def effective_schedule(
    class_schedule: str | None, class_agency: str, settings: Mapping[str, Any], window: int
) -> str | None:
    """A source's schedule: its settings' own `schedule`, else its class's; an instance of a
    template class (no agency of its own) spread by its agency code."""
    own = settings.get("schedule")
    if own:
        return str(own)
    agency = str(settings.get("agency") or "")
    if not class_agency and agency:
        return spread_schedule(class_schedule, agency, window)
    return class_schedule
