"""Recognising a roster's header row: which column holds which canonical field.

Spreadsheets made by hand spell the same column many ways ("No. KTP", "NO KTP", "no_ktp").
Headers are compared after `normalise_header`, which keeps only letters and digits, so case,
spaces and punctuation never matter. A header with a unit in brackets ("Gaji (Rp)",
"Jenis Kelamin (L/P)") is tried again without the bracketed part.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# docs/domain.md §4. Field order follows records.FIELDS so listings read naturally.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "nik": ("NIK", "No. KTP", "No KTP", "Nomor Induk Kependudukan"),
    "name": ("Nama", "Nama Lengkap", "Nama Pegawai"),
    "gender": ("Jenis Kelamin", "JK", "L/P"),
    "birth_date": ("Tanggal Lahir", "Tgl Lahir", "Tgl. Lahir"),
    "position": ("Jabatan",),
    "work_unit": ("Unit Kerja", "OPD", "SKPD", "Satuan Kerja"),
    "wage": (
        "Upah",
        "Gaji",
        "Gaji Pokok",
        "Honor",
        "Honor/Bulan",
        "Honorarium",
        "Penghasilan",
    ),
    "start_date": ("TMT", "Tanggal Mulai", "Tgl Mulai Kerja"),
    "category": ("Kategori", "Jenis Pekerja"),
}

# The first column of most Indonesian sheets numbers the rows ("No", "No.", "Nomor", "No
# Urut"): known, carries nothing to map, and is never warned about as an unknown column.
ROW_NUMBER_HEADERS: frozenset[str] = frozenset({"no", "nomor", "nourut", "nomorurut", "nr"})

# Without these a row cannot become an EnrollmentRecord; gender and birth date can come from
# the NIK, and position, work unit and category have defaults.
REQUIRED_FIELDS: tuple[str, ...] = ("nik", "name", "wage", "start_date")

# Columns of a header read at all: Excel's own width (XFD). A file with more is no roster
# anyone made in a spreadsheet: a million columns made a million notices (issue 16, item 10).
MAX_COLUMNS = 16_384

# How many spellings of a column a refusal lists ("Upah/Gaji"): enough to be recognised.
SPELLINGS_SHOWN = 2


def column_names(fields: Iterable[str], extra: Mapping[str, Iterable[str]] | None = None) -> str:
    """Fields as a clerk knows the columns, for a refusal: 'NIK/No. KTP, Upah/Gaji, TMT/...'
    (the first spellings of each, a plugin's own first), never the internal ids
    (`start_date`). A field without a known spelling is given as it is called."""
    names = []
    for field in fields:
        own = (extra or {}).get(field, ())
        spellings = [own] if isinstance(own, str) else list(own)
        spellings += [s for s in HEADER_ALIASES.get(field, ()) if s not in spellings]
        names.append("/".join(spellings[:SPELLINGS_SHOWN]) or field)
    return ", ".join(names)


_NOT_ALNUM = re.compile(r"[\W_]+")
_BRACKETED = re.compile(r"[(\[].*?[)\]]")


def normalise_header(text: str) -> str:
    """The comparison key of a header: case-folded, letters and digits only."""
    return _NOT_ALNUM.sub("", text.casefold())


def build_alias_index(
    extra: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, str]:
    """Normalised spelling -> field, from HEADER_ALIASES plus a plugin's own spellings.

    A plugin's spellings win over the built-in ones: a feed that uses "Honor" for something
    other than the wage must be able to say so.
    """
    index: dict[str, str] = {}
    for source in (HEADER_ALIASES, extra or {}):
        for field, spellings in source.items():
            if isinstance(spellings, str):  # a lone string would be iterated letter by letter
                spellings = (spellings,)
            for spelling in spellings:
                key = normalise_header(spelling)
                if key:
                    index[key] = field
    return index


def match_header(text: str, index: Mapping[str, str]) -> str | None:
    """The field a header cell names, or None."""
    field = index.get(normalise_header(text))
    if field is None and _BRACKETED.search(text):
        field = index.get(normalise_header(_BRACKETED.sub("", text)))
    return field


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """The outcome of reading a header row."""

    columns: dict[str, str]  # header text -> field
    positions: tuple[tuple[int, str], ...]  # (cell index, field), in file order
    unknown: list[str]  # header texts that matched nothing, in file order
    duplicates: dict[str, list[str]]  # field -> the header texts that all claim it

    def missing(self, required: Iterable[str]) -> list[str]:
        found = {field for _, field in self.positions}
        return [field for field in required if field not in found]


def read_header(cells: Sequence[str | None], index: Mapping[str, str]) -> HeaderMatch:
    """Match each non-empty header cell among the first MAX_COLUMNS against the alias
    index; the cells after those are not read (their data cells are never mapped)."""
    columns: dict[str, str] = {}
    positions: list[tuple[int, str]] = []
    unknown: list[str] = []
    claimed: dict[str, list[str]] = {}
    for position, text in enumerate(itertools.islice(cells, MAX_COLUMNS)):
        if text is None:
            continue  # an unnamed column carries nothing we could map
        field = match_header(text, index)
        if field is None:
            if normalise_header(text) not in ROW_NUMBER_HEADERS:
                unknown.append(text)
            continue
        claimed.setdefault(field, []).append(text)
        columns[text] = field
        positions.append((position, field))
    duplicates = {field: texts for field, texts in claimed.items() if len(texts) > 1}
    return HeaderMatch(columns, tuple(positions), unknown, duplicates)
