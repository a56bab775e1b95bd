"""A budget allocation a regional government declares with its roster.

Read here once for the API, the dashboard and the CLI (`read_declaration`: the pair of a
fiscal year and `jkk=24.000.000,jkm=30.000.000`, named as each of them names its fields),
recorded by the intake inside the roster's run (gateway/roster/intake.py) and stored by
gateway/store/allocations.py. The README's "Budget-allocation check" says how it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.budget.check import RatesNotInForce, check_budget
from gateway.budget.rates import RatesError, load_packages, load_schedule
from gateway.domain.budget import BUDGET_PROGRAMS
from gateway.domain.parsing import MESSAGES, ParseError, parse_money
from gateway.store.allocations import record_declared
from gateway.store.db import writing

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gateway.domain.agencies import Agency
    from gateway.domain.budget import BudgetCheck

# How a caller names the two fields, in both languages: {"year"/"allocation": (id, en)}.
FieldNames = dict[str, tuple[str, str]]
API_FIELDS: FieldNames = {"year": ("fiscal_year", "fiscal_year"),
                          "allocation": ("allocation", "allocation")}  # fmt: skip


class AllocationError(ValueError):
    """A declared allocation that cannot be read; `str()` gives both languages (the CLI).
    `field`: the one at fault, "year" or "allocation" (None: neither, e.g. a ministry)."""

    def __init__(self, message_id: str, message_en: str, field: str | None = None) -> None:
        super().__init__(f"{message_id} / {message_en}")
        self.message_id = message_id
        self.message_en = message_en
        self.field = field


@dataclass(frozen=True)
class Declaration:
    """A government's allocation for one fiscal year: {program: whole Rupiah}."""

    fiscal_year: int
    amounts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """As the API answers it and a receipt states it: {"fiscal_year": 2025, "jkk": ...}."""
        return {"fiscal_year": self.fiscal_year, **self.amounts}


def read_declaration(
    year: str | int | None, text: str | None, *, agency: Agency, names: FieldNames = API_FIELDS
) -> Declaration | None:
    """The optional fiscal year and allocation sent with a roster: None when neither is
    given; AllocationError (naming the fields by `names`) when one comes without the other,
    the year is not 2000-2100, the agency is a ministry (paid from the APBN, it has no APBD)
    or the allocation cannot be read."""
    year_text = str(year).strip() if year is not None else ""
    if not year_text and not text:
        return None
    (year_id, year_en), (alloc_id, alloc_en) = names["year"], names["allocation"]
    if not text:
        raise AllocationError(
            f"{year_id} diisi tanpa {alloc_id}: tulis mis. jkk=24.000.000,jkm=30.000.000",
            f"{year_en} was sent without {alloc_en}: write e.g. jkk=24.000.000,jkm=30.000.000",
            "allocation",
        )
    if not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        raise AllocationError(
            f"{alloc_id} perlu {year_id}, tahun anggaran 2000-2100 (mis. 2025)",
            f"{alloc_en} needs {year_en}, a fiscal year from 2000 to 2100 (e.g. 2025)",
            "year",
        )
    if agency.kind == "ministry":
        raise AllocationError(
            "alokasi APBD hanya untuk pemerintah daerah",
            "an APBD allocation is only for a regional government",
        )
    return Declaration(int(year_text), parse_allocation(text))


def parse_allocation(text: str) -> dict[str, int]:
    """`jkk=24.000.000,jkm=30000000` -> {"jkk": 24000000, "jkm": 30000000}.

    Amounts may be written as on a spreadsheet (dots, commas, "Rp"), so a comma only separates
    entries when a `program=` follows it. Raises AllocationError, in both languages.
    """
    out: dict[str, int] = {}
    programs = ", ".join(BUDGET_PROGRAMS)
    for part in re.split(r",(?=\s*[A-Za-z_]+\s*=)", text.strip()):
        program, sep, amount = part.partition("=")
        program = program.strip().lower()
        if not sep or program not in BUDGET_PROGRAMS:
            raise AllocationError(
                f"alokasi harus ditulis program=JUMLAH dengan program salah satu dari "
                f"{programs}: {part.strip()!r}",
                f"allocation must be written program=AMOUNT with a program among "
                f"{programs}: {part.strip()!r}",
                "allocation",
            )
        if program in out:  # two amounts for one line: which one was meant?
            raise AllocationError(
                f"alokasi {program} ditulis lebih dari sekali",
                f"the {program} allocation is given more than once",
                "allocation",
            )
        try:
            out[program] = parse_money(amount)
        except ParseError as exc:  # say why (zero, cents, too large), not just "not recognised"
            reason = MESSAGES[exc.code]
            raise AllocationError(
                f"alokasi {program}: {reason.id.format(**exc.params)}",
                f"the {program} allocation: {reason.en.format(**exc.params)}",
                "allocation",
            ) from exc
    return out


def declare_allocation(
    engine: Engine, government: str, fiscal_year: int, amounts: dict[str, int], run_id: int | None
) -> None:
    """Record an allocation in a transaction of its own (replaces the government's earlier
    declaration for the year). A roster's allocation is recorded by the intake instead,
    inside the run's transaction."""
    with writing(engine) as conn:
        record_declared(conn, government, fiscal_year, amounts, run_id)


def allocation_coverage(engine: Engine, government: str, fiscal_year: int) -> BudgetCheck | None:
    """Whether what the government allocated for `fiscal_year` covers its enrolled workers'
    obligation for the year, as `jamsos budget check` computes it (the APBD feed's figures
    win over a declaration): what a clerk is told after declaring an allocation with a
    roster. None when the rate tables cannot cost the year (config/rates missing or not
    reaching back that far): the allocation is still recorded, only not assessed."""
    try:
        return check_budget(engine, government, fiscal_year, schedule=load_schedule(),
                            packages=load_packages())  # fmt: skip
    except (RatesNotInForce, RatesError):
        return None
