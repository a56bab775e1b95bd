"""The dashboard's lists read whole, for a spreadsheet export (gateway/web/export.py): each
list's own keyset page query walked page after page, so an export of a million rows holds one
page in memory at a time and reads the same rows, in the same order and under the same
filters, as the pages a person clicks through.

`keyset` is the walk itself; a list built later (delivery, reconciliation) gives it its own
page query and key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine

from gateway.store import dashboard
from gateway.store.identity import conflict_page

K = TypeVar("K")
CHUNK = 2000


def keyset(fetch: Callable[[K | None], list[dict[str, Any]]],
           key: Callable[[dict[str, Any]], K]) -> Iterator[dict[str, Any]]:
    """Every row of a keyset-paged list: `fetch(None)` is the first page, `fetch(key(last))`
    the page after `last`; an empty page ends the walk."""
    after: K | None = None
    while True:
        page = fetch(after)
        if not page:
            return
        yield from page
        after = key(page[-1])


def agency_workers(engine: Engine, agency: str, status: str | None) -> Iterator[dict[str, Any]]:
    """The agency's enrollments in id order, with the worker's encrypted NIK and name."""
    return keyset(lambda after: dashboard.worker_page(engine, agency, status, after, None,
                                                      CHUNK)[0],
                  lambda row: row["id"])


def runs_list(engine: Engine, *, agency: str | None, source: str | None,
              status: str | None) -> Iterator[dict[str, Any]]:
    """Runs newest first, as the runs page lists them."""
    return keyset(lambda before: dashboard.list_runs(engine, agency=agency, source=source,
                                                     status=status, before=before, limit=CHUNK),
                  lambda row: row["id"])


def run_problems(engine: Engine, run_id: int, filters: dict[str, str]
                 ) -> Iterator[dict[str, Any]]:
    """A run's problems in (row, id) order."""
    return keyset(lambda after: dashboard.problem_page(engine, run_id, filters, after, CHUNK),
                  lambda row: (row["row"], row["id"]))


def identity_conflicts(engine: Engine, *, resolved: bool, agency: str | None
                       ) -> Iterator[dict[str, Any]]:
    """Identity conflicts newest first, with the worker's encrypted NIK and name."""
    return keyset(lambda before: conflict_page(engine, resolved=resolved, agency=agency,
                                               before=before, limit=CHUNK),
                  lambda row: row["id"])
