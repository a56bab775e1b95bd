"""What each enrollment of a government was, month by month, in a fiscal year: the facts the
registry held for each month, read back from the enrollment's history.

A budget obligation is owed month by month at the facts of that month (docs/domain.md §2: "computed
with the table in force for the month it is for"; §5: "for the months of that year they are
enrolled"). The enrollments table holds only today's facts, so a raise sent in November would
restate January to October at the new wage, and a worker ended in April and back in September
would be charged for the months between. Here each month takes the facts the registry held at
the end of that month: those recorded by the last change sent before the month ended, or
today's for the months after the last change. A correction (a TMT, a category) therefore
counts from the month it was sent, as a raise does: before it, the registry held, and BPJS
was owed, the facts as they stood.

Most enrollments have not changed since the year began: their facts today held all year, and
they are streamed straight from the enrollments table, as before. Only the ones changed since
(`updated_at` after `created_at`, on or after the 1st of January) have their history read.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from gateway.store.budget import enrollments_of_year

if TYPE_CHECKING:
    from sqlalchemy import Engine

# (wage, category, position, start, end) of one stretch of months; end clipped to the stretch.
Period = tuple[int, str, str | None, date, date | None]
# (birth date, the periods of the fiscal year) of one enrollment.
Enrolled = tuple[date, tuple[Period, ...]]


def enrolled_periods(engine: Engine, government: str, fiscal_year: int,
                     unit_filter: Callable[[str | None], bool] | None = None,
                     ) -> Iterator[Enrolled]:  # fmt: skip
    """The government's enrollments that were enrolled in the fiscal year, streamed
    (`unit_filter`: only those of the work units it takes)."""
    for birth, today, changes in enrollments_of_year(engine, government, fiscal_year,
                                                     unit_filter):  # fmt: skip
        if changes is None:  # unchanged since the year began: today's facts held all year
            yield birth, (today,)
            continue
        found = month_periods(fiscal_year, changes, today)
        if found:
            yield birth, found


def month_periods(
    fiscal_year: int, changes: Sequence[tuple[date, Mapping]], today: Period
) -> tuple[Period, ...]:
    """The fiscal year's months grouped by the facts in force at each month's end.

    `changes`: (the day a change was recorded, the facts just before it), oldest first;
    `today`: the facts now. Facts whose dates miss their months contribute nothing."""
    facts = [_facts(before) for _, before in changes] + [today]
    # Facts k hold from the month of change k-1 up to the month before change k: a month
    # takes the facts recorded by its last day.
    starts = [-1_000_000, *(_month_number(day) for day, _ in changes)]
    ends = [m - 1 for m in starts[1:]] + [1_000_000]
    year_first, year_last = fiscal_year * 12, fiscal_year * 12 + 11
    out: list[Period] = []
    for (wage, category, position, start, end), lo, hi in zip(facts, starts, ends, strict=True):
        lo, hi = max(lo, year_first), min(hi, year_last)
        if lo > hi:
            continue
        window_first = date(lo // 12, lo % 12 + 1, 1)
        window_last = _last_day(hi // 12, hi % 12 + 1)
        begins = max(start, window_first)
        stops = window_last if end is None else min(end, window_last)
        if begins <= stops:
            out.append((wage, category, position, begins, stops))
    return tuple(out)


def _facts(before: Mapping) -> Period:
    end = before.get("end_date")
    return (
        int(before["wage"]),
        before["category"],
        before.get("position"),
        date.fromisoformat(str(before["start_date"])[:10]),
        date.fromisoformat(str(end)[:10]) if end else None,
    )


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])
