"""Declared budget allocations: what a regional government says it budgeted, sent with its
roster (gateway/budget/allocation.py reads it; the README's "Budget-allocation check" says how
it is used). The APBD feed's figures are written by gateway/budget/feed.py.

`record_declared` writes inside a transaction the caller holds: the intake records an
allocation in its run's own transaction, so the run's receipt states it and a run that fails
records none. `declared_with_run` reads it back there, for the receipt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from gateway.domain.budget import ACCOUNT_CODES, PROGRAM_OF_ACCOUNT
from gateway.store.tables import budget_allocations

DECLARED = "declared"  # budget_allocations.source of an allocation sent with a roster


def record_declared(
    conn: Connection, government: str, fiscal_year: int, amounts: dict[str, int],
    run_id: int | None,
) -> None:
    """Replace the government's declared allocation for the year, inside `conn`'s
    transaction. `amounts`: {program: whole Rupiah}, stored under its account code."""
    conn.execute(
        delete(budget_allocations).where(
            and_(
                budget_allocations.c.government == government,
                budget_allocations.c.fiscal_year == fiscal_year,
                budget_allocations.c.source == DECLARED,
            )
        )
    )
    now = datetime.now(UTC)
    conn.execute(
        insert(budget_allocations),
        [
            {
                "government": government,
                "fiscal_year": fiscal_year,
                "account_code": ACCOUNT_CODES.get(program, program),
                "amount": amount,
                "source": DECLARED,
                "run_id": run_id,
                "received_at": now,
            }
            for program, amount in amounts.items()
        ],
    )


def declared_with_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """The allocation recorded with run `run_id`, as the API answers it:
    {"fiscal_year": 2025, "jkk": 24000000, ...}; None when the run declared none."""
    rows = conn.execute(
        select(
            budget_allocations.c.fiscal_year,
            budget_allocations.c.account_code,
            budget_allocations.c.amount,
        )
        .where(
            and_(
                budget_allocations.c.run_id == run_id,
                budget_allocations.c.source == DECLARED,
            )
        )
        .order_by(budget_allocations.c.fiscal_year, budget_allocations.c.id)
    ).all()
    if not rows:
        return None
    year = rows[0].fiscal_year  # a run declares for one year
    out: dict[str, Any] = {"fiscal_year": year}
    for row in rows:
        if row.fiscal_year == year:
            out[PROGRAM_OF_ACCOUNT.get(row.account_code, row.account_code)] = row.amount
    return out
