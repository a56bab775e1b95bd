"""A run record as the API and `jamsos runs --json` show it: its fields, times in UTC with
their offset (SQLite gives them back naive)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gateway.store.db import aware
from gateway.store.tables import RUN_CHANGES, RUN_COUNTS

__all__ = ["RUN_CHANGES", "RUN_COUNTS", "RUN_FIELDS", "run_json"]

RUN_FIELDS = (
    "id",
    "agency",
    "source",
    "trigger",
    "actor",  # who acted: "api:<key prefix>", "user:<name>", else the trigger (0010)
    "filename",
    "status",
    "started_at",
    "finished_at",
    *RUN_COUNTS,
    "error",
    "external_id",  # what started it, e.g. the Airflow dag_id/run_id
)


def run_json(run: dict[str, Any]) -> dict[str, Any]:
    """A `runs` row as JSON-ready values: dates and times in ISO 8601."""
    out = {}
    for key in RUN_FIELDS:
        value = run.get(key)
        if isinstance(value, datetime):
            value = aware(value)  # SQLite drops the zone; we store UTC
        out[key] = value.isoformat() if isinstance(value, datetime | date) else value
    return out
