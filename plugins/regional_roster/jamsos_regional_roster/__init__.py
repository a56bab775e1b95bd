"""The generic roster of a regional government (docs/domain.md §4), as a syncable source.

One class serves every province, regency and city: each government is configured as its own
source, with its agency and where its roster arrives (a drop folder its BKPSDM writes to, or
a URL its system publishes):

    [sources."roster-15.05"]
    type = "regional-roster"
    agency = "15.05"
    folder = "/srv/jamsos/drop/15.05"

The columns are the upload's (README, "Columns"); no aliases are added.
"""

from __future__ import annotations

from typing import Any

from gateway import CsvSource, hookimpl

__version__ = "0.1.0"


class RegionalRoster(CsvSource):
    id = "regional-roster"
    agency = ""  # set per configured instance: a Kemendagri region code
    title = "Roster pemerintah daerah (CSV/XLSX, folder atau URL)"
    schedule = "0 4 * * *"
    snapshot = True
    categories = ("honorer", "aparat_desa", "rt_rw", "pekerja_rentan")


@hookimpl
def register_sources() -> list[type[CsvSource]]:
    return [RegionalRoster]


@hookimpl
def prepare_demo(instance_path: str) -> dict[str, dict[str, Any]]:
    """Kota Pangkalpinang's BKPSDM drops its roster into a folder."""
    from pathlib import Path

    from gateway import Category, generate_roster, write_csv

    drop = Path(instance_path) / "demo" / "drop_19.71"
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / "honorer_pangkalpinang_2025.csv"
    if not path.exists():
        rows = generate_roster(
            180, seed=1971, regency="19.71", error_rate=0.02, category=Category.HONORER
        )
        write_csv(path, rows, totals_row=True)
    return {"roster-19.71": {"type": "regional-roster", "agency": "19.71", "folder": str(drop)}}
