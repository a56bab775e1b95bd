"""The demo agencies that `jamsos demo load` (and `make run`) enrols: one roster file each, in
the formats and spellings regional governments really send (gateway.demo.rosters generates them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.demo.rosters import generate_roster, write_csv, write_xlsx
from gateway.domain.records import Category


@dataclass(frozen=True, slots=True)
class DemoRoster:
    """One demo agency's roster upload, for `make run`."""

    agency: str  # the submitting government's region code
    agency_name: str
    filename: str  # .csv or .xlsx decides the format
    n: int
    seed: int
    error_rate: float
    category: Category | None
    province: str | None = None
    regency: str | None = None
    delimiter: str = ";"
    encoding: str = "utf-8-sig"
    totals_row: bool = False

    def rows(self) -> Iterator[dict[str, str]]:
        return generate_roster(
            self.n,
            seed=self.seed,
            province=self.province,
            regency=self.regency,
            error_rate=self.error_rate,
            category=self.category,
        )

    def write(self, directory: str | Path) -> Path:
        """Write the roster file into `directory`; return its path."""
        path = Path(directory) / self.filename
        if path.suffix == ".xlsx":
            write_xlsx(path, self.rows(), totals_row=self.totals_row)
        else:
            write_csv(
                path,
                self.rows(),
                delimiter=self.delimiter,
                encoding=self.encoding,
                totals_row=self.totals_row,
            )
        return path


def demo_rosters() -> list[DemoRoster]:
    """The demo agencies: regional governments from the seed articles' southern Sumatra
    coverage figures (docs/domain.md §1), plus Jakarta."""
    honorer = Category.HONORER
    return [
        DemoRoster("15.05", "Pemerintah Kabupaten Muaro Jambi", "honorer_muaro_jambi_2025.xlsx",
                   300, 1505, 0.03, honorer, regency="15.05", totals_row=True),
        DemoRoster("31", "Pemerintah Provinsi DKI Jakarta", "non_asn_dki_jakarta_2025.csv",
                   500, 31, 0.01, honorer, province="31"),
        DemoRoster("16", "Pemerintah Provinsi Sumatera Selatan", "non_asn_sumsel_2025.csv",
                   400, 16, 0.02, honorer, province="16", delimiter=",", encoding="utf-8"),
        DemoRoster("17", "Pemerintah Provinsi Bengkulu", "pekerja_bengkulu_2025.xlsx",
                   200, 17, 0.05, None, province="17"),
        DemoRoster("18.71", "Pemerintah Kota Bandar Lampung", "honorer_bandar_lampung_2025.csv",
                   250, 1871, 0.0, honorer, regency="18.71", encoding="cp1252", totals_row=True),
    ]  # fmt: skip
