"""Rate tables and program packages from config/rates/*.toml (see the header of jkk.toml).

Which directory: the one the caller names (the CLI's --rates-dir), else $JAMSOS_RATES_DIR, else
./config/rates in the working directory, else the config/rates of the source checkout this
package runs from (an editable install, as `make install` makes). A wheel carries no config/:
there, set JAMSOS_RATES_DIR. When none exists, `RatesError` says where it looked.

Files are read once per directory and cached. The cache key holds each file's modification time
and size, so an edited table is picked up by the next call without a restart.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway.domain.contributions import (
    BPU_PROGRAMS,
    PROGRAMS,
    RISK_CLASSES,
    PensionAge,
    ProgramRate,
    RateSchedule,
    WageCeiling,
)
from gateway.domain.records import Category

PACKAGES_FILE = "packages.toml"
TITLE_MEMO = 50_000  # distinct job titles whose risk class a Packages remembers
ENV_VAR = "JAMSOS_RATES_DIR"
# config/rates beside the `gateway` package: present in a source checkout / editable install.
CHECKOUT_RATES_DIR = Path(__file__).resolve().parents[2] / "config" / "rates"


class RatesError(Exception):
    """The rate configuration cannot be found or read; the message says which file and why."""


# --- where ------------------------------------------------------------------------------------
def resolve_rates_dir(rates_dir: str | Path | None = None) -> Path:
    """`rates_dir`, else $JAMSOS_RATES_DIR, else ./config/rates, else the checkout's copy."""
    if rates_dir is None and os.environ.get(ENV_VAR):
        rates_dir = os.environ[ENV_VAR]
    if rates_dir is not None:
        path = Path(rates_dir)
        if not path.is_dir():
            raise RatesError(f"folder tarif tidak ada / rates folder not found: {path}")
        return path.resolve()
    for candidate in (Path("config/rates"), CHECKOUT_RATES_DIR):
        if candidate.is_dir():
            return candidate.resolve()
    raise RatesError(
        "tabel tarif tidak ditemukan: atur JAMSOS_RATES_DIR atau jalankan dari folder yang "
        "berisi config/rates / rate tables not found: set JAMSOS_RATES_DIR or run from a folder "
        f"holding config/rates (looked in ./config/rates and {CHECKOUT_RATES_DIR})")


def _stamp(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


def load_schedule(rates_dir: str | Path | None = None) -> RateSchedule:
    """Every rate table of the directory (all *.toml but packages.toml) as one schedule."""
    directory = resolve_rates_dir(rates_dir)
    files = sorted(p for p in directory.glob("*.toml") if p.name != PACKAGES_FILE)
    if not files:
        raise RatesError(f"tidak ada tabel tarif / no rate tables (*.toml) in {directory}")
    return _schedule(directory, _stamp(files))


def load_packages(rates_dir: str | Path | None = None) -> Packages:
    """The program packages and JKK risk classes of the directory's packages.toml."""
    path = resolve_rates_dir(rates_dir) / PACKAGES_FILE
    if not path.is_file():
        raise RatesError(f"{PACKAGES_FILE} tidak ada / not found in {path.parent}")
    return _packages(path, _stamp([path]))


# --- reading values ---------------------------------------------------------------------------
def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RatesError(f"{path.name}: tidak dapat dibaca / cannot be read: {exc}") from exc


class _Row:
    """One TOML table being read; errors name the file and the row."""

    def __init__(self, data: object, where: str, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise RatesError(f"{where}: expected a table")
        unknown = sorted(set(data) - allowed)
        if unknown:  # a misspelt key would otherwise be silently ignored
            raise RatesError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(sorted(allowed))}")
        self.data, self.where = data, where

    def fail(self, message: str) -> RatesError:
        return RatesError(f"{self.where}: {message}")

    def date(self, key: str) -> date:
        value = self.data.get(key)
        if not isinstance(value, date) or isinstance(value, datetime):
            raise self.fail(f"{key} must be a TOML date such as 2025-02-07, not {value!r}")
        return value

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} is required (the regulation and where it was read)")
        return value.strip()

    def decimal(self, key: str, value: object = None) -> Decimal:
        value = self.data.get(key, "0") if value is None else value
        if not isinstance(value, str):  # a TOML float cannot hold 0.0024 exactly
            raise self.fail(f"{key} must be a quoted decimal string such as \"0.0024\" "
                            f"(never a float), not {value!r}")
        try:
            rate = Decimal(value.strip())
        except InvalidOperation:
            raise self.fail(f"{key} is not a decimal number: {value!r}") from None
        if not rate.is_finite() or not 0 <= rate < 1:
            raise self.fail(f"{key} must be a fraction from 0 to below 1 (0.0024 is 0.24 %)")
        return rate

    def integer(self, key: str, default: int | None = None, low: int = 0,
                high: int = 10**12) -> int:
        value = self.data.get(key, default)
        if type(value) is not int or not low <= value <= high:
            raise self.fail(f"{key} must be a whole number from {low} to {high}, not {value!r}")
        return value


# --- rate tables ------------------------------------------------------------------------------
_RATE_KEYS = {"program", "effective_from", "regulation", "source", "employer", "worker", "other",
              "classes", "minimum", "minimum_base"}
_CITED = {"effective_from", "regulation", "source"}


def _rates(row: _Row) -> list[ProgramRate]:
    program = row.data.get("program")
    if program not in PROGRAMS:
        raise row.fail(f"program must be one of {', '.join(PROGRAMS)}, not {program!r}")
    common: dict[str, Any] = {
        "program": program, "effective_from": row.date("effective_from"),
        "regulation": row.text("regulation"), "source": row.text("source"),
        "worker": row.decimal("worker"), "other": row.decimal("other"),
        "minimum": row.integer("minimum", 0), "minimum_base": row.integer("minimum_base", 0),
    }
    if program != "jkk":
        if "classes" in row.data:
            raise row.fail("only jkk has risk classes")
        return [ProgramRate(employer=row.decimal("employer"), **common)]
    classes = row.data.get("classes")
    if "employer" in row.data or not isinstance(classes, dict) or (
            set(classes) != {str(c) for c in RISK_CLASSES}):
        raise row.fail("jkk needs [rates.classes] with the employer rate of classes 1 to 5")
    return [ProgramRate(employer=row.decimal(f"classes.{c}", classes[str(c)]), risk_class=c,
                        **common) for c in RISK_CLASSES]


@functools.lru_cache(maxsize=8)
def _schedule(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> RateSchedule:
    rates: list[ProgramRate] = []
    ceilings: list[WageCeiling] = []
    ages: list[PensionAge] = []
    for name, _, _ in stamp:
        for table, rows in _read(directory / name).items():
            if table not in ("rates", "jp_ceiling", "pension_age") or not isinstance(rows, list):
                raise RatesError(f"{name}: unknown table {table!r}; use [[rates]], "
                                 "[[jp_ceiling]] or [[pension_age]]")
            for index, data in enumerate(rows, start=1):
                where = f"{name} [[{table}]] #{index}"
                if table == "rates":
                    rates.extend(_rates(_Row(data, where, _RATE_KEYS)))
                elif table == "jp_ceiling":
                    row = _Row(data, where, _CITED | {"amount", "derived"})
                    derived = row.data.get("derived", False)
                    if not isinstance(derived, bool):
                        raise row.fail("derived must be true or false")
                    ceilings.append(WageCeiling(
                        row.date("effective_from"), row.integer("amount", low=1),
                        row.text("regulation"), derived, row.text("source")))
                else:
                    row = _Row(data, where, _CITED | {"age"})
                    ages.append(PensionAge(row.date("effective_from"),
                                           row.integer("age", low=15, high=100),
                                           row.text("regulation"), row.text("source")))
    try:
        return RateSchedule(tuple(rates), tuple(ceilings), tuple(ages))
    except ValueError as exc:
        raise RatesError(f"{directory}: {exc}") from exc


# --- packages ---------------------------------------------------------------------------------
def agency_key(code: str) -> str:
    """An agency code as packages.toml keys it: lower case, `1505` read as `15.05`."""
    clean = code.strip().lower()
    return f"{clean[:2]}.{clean[2:]}" if len(clean) == 4 and clean.isdigit() else clean


def position_key(position: str) -> str:
    return " ".join(position.casefold().split())


@dataclass(frozen=True)
class Packages:
    """Programs per worker category, agency elections, and the JKK risk class rules."""

    categories: Mapping[str, frozenset[str]]
    default_risk_class: int = 1
    agency_programs: Mapping[str, frozenset[str]] = field(default_factory=dict)
    agency_risk_class: Mapping[str, int] = field(default_factory=dict)
    position_risk_class: Mapping[str, int] = field(default_factory=dict)

    def programs_for(self, category: Category | str, agency: str | None = None) -> frozenset[str]:
        """The category's package plus what the agency elected, where it fits the category."""
        base = self.categories[str(category)]
        extra = self.agency_programs.get(agency_key(agency), frozenset()) if agency else frozenset()
        bpu = not base.isdisjoint(BPU_PROGRAMS)
        return base | {p for p in extra if (p in BPU_PROGRAMS) == bpu}

    # [[position_patterns]]: (compiled pattern, class), tried in file order after the exact
    # [positions]: job titles are typed by hand ("Sopir Ambulans", "PENGEMUDI", "Satpam RSUD").
    position_patterns: tuple[tuple[re.Pattern[str], int], ...] = ()
    # A title's class once worked out: a budget check asks once per enrollment period, and
    # an agency has few distinct titles. Bounded all the same (a feed of free-text titles).
    _by_title: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)

    def position_class(self, position: str) -> int | None:
        """The class a job title alone decides: an exact [positions] entry, else the first
        [[position_patterns]] entry that matches it; None when neither does."""
        key = position_key(position)
        if key in self._by_title:
            return self._by_title[key]
        found = self.position_risk_class.get(key)
        if found is None:
            found = next((risk for pattern, risk in self.position_patterns
                          if pattern.search(key)), None)  # fmt: skip
        if len(self._by_title) < TITLE_MEMO:
            self._by_title[key] = found
        return found

    def risk_class_for(self, agency: str | None = None, position: str | None = None) -> int:
        """JKK risk class: the position's (exact title, else pattern), else the agency's,
        else the default. The budget check and `jamsos contributions` both ask here."""
        if position and (found := self.position_class(position)):
            return found
        if agency and (found := self.agency_risk_class.get(agency_key(agency))):
            return found
        return self.default_risk_class


def _programs(row: _Row, key: str) -> frozenset[str]:
    value = row.data.get(key, [])
    if not isinstance(value, list) or not set(value) <= set(PROGRAMS):
        raise row.fail(f"{key} must be a list of {', '.join(PROGRAMS)}, not {value!r}")
    return frozenset(value)


@functools.lru_cache(maxsize=8)
def _packages(path: Path, stamp: tuple[tuple[str, int, int], ...]) -> Packages:
    data = _Row(_read(path), path.name,
                {"defaults", "categories", "agencies", "positions", "position_patterns"}).data
    default = _Row(data.get("defaults", {}), f"{path.name} [defaults]", {"risk_class"})
    categories: dict[str, frozenset[str]] = {}
    for name, table in data.get("categories", {}).items():
        row = _Row(table, f"{path.name} [categories.{name}]", {"programs", "jkp"})
        programs = _programs(row, "programs")
        if name not in {str(c) for c in Category} or not programs:
            raise row.fail("a known category needs a non-empty programs list")
        jkp = row.data.get("jkp", False)
        if not isinstance(jkp, bool) or (jkp and not programs.isdisjoint(BPU_PROGRAMS)):
            raise row.fail("jkp must be true or false (and false for a BPU package)")
        if programs & set(BPU_PROGRAMS) and programs - set(BPU_PROGRAMS):
            raise row.fail("a package is either wage-earner or BPU programs, not both")
        categories[name] = programs | {"jkp"} if jkp else programs
    missing = sorted({str(c) for c in Category} - set(categories))
    if missing:
        raise RatesError(f"{path.name}: no package for categories {', '.join(missing)}")
    agency_programs: dict[str, frozenset[str]] = {}
    agency_class: dict[str, int] = {}
    for code, table in data.get("agencies", {}).items():
        row = _Row(table, f"{path.name} [agencies.{code!r}]", {"programs", "risk_class"})
        agency_programs[agency_key(code)] = _programs(row, "programs")
        if "risk_class" in row.data:
            agency_class[agency_key(code)] = row.integer("risk_class", low=1, high=5)
    positions = _Row(data.get("positions", {}), f"{path.name} [positions]",
                     set(data.get("positions", {})))
    return Packages(
        categories, default.integer("risk_class", 1, low=1, high=5), agency_programs,
        agency_class,
        {position_key(k): positions.integer(k, low=1, high=5) for k in positions.data},
        _position_patterns(data.get("position_patterns", []), path.name))


def _position_patterns(tables: object, name: str) -> tuple[tuple[re.Pattern[str], int], ...]:
    """[[position_patterns]]: `pattern`, a regular expression searched (case-insensitively)
    in the job title with its spaces collapsed, and the `risk_class` it gives."""
    if not isinstance(tables, list):
        raise RatesError(f"{name}: position_patterns must be [[position_patterns]] tables")
    out: list[tuple[re.Pattern[str], int]] = []
    for index, table in enumerate(tables, start=1):
        row = _Row(table, f"{name} [[position_patterns]] #{index}",
                   {"pattern", "risk_class", "note"})  # fmt: skip
        text = row.data.get("pattern")
        if not isinstance(text, str) or not text.strip():
            raise row.fail("pattern is required, e.g. '\\b(sopir|pengemudi)\\b'")
        try:
            pattern = re.compile(text, re.IGNORECASE)
        except re.error as exc:
            raise row.fail(f"pattern {text!r} is not a regular expression: {exc}") from None
        out.append((pattern, row.integer("risk_class", low=1, high=5)))
    return tuple(out)
