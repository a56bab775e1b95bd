"""The reconciliation tests' registry: two governments mapped to their NPPs, one roster."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.delivery.employers import register_employer
from gateway.domain.agencies import resolve_agency
from gateway.roster.endings import NO_LIMIT
from gateway.roster.submit import submit_roster
from tests.helpers.bpjs import NPP, OTHER
from tests.helpers.roster import worker_row, write_roster


@pytest.fixture
def registry(gw, tmp_path):
    """Muaro Jambi (15.05) enrols workers 0-5 (all at Rp 3.500.000, since 2024) under NPP
    12345678; Batang Hari (15.04) has NPP 22222222. Worker 4 has since left Muaro Jambi."""
    gw.ensure_ready()
    gw.config["RECONCILIATION"] = {"not_registered_after_days": 0}
    for agency, npp in (("15.05", NPP), ("15.04", OTHER)):
        register_employer(gw, agency=agency, kind="npp", npp=npp, division="001", segment=None,
                          work_unit=None, destination="bpjs-h2h")  # fmt: skip
    for name, rows in (("all.csv", range(6)), ("left.csv", (0, 1, 2, 3, 5))):
        submit_roster(gw.registry, write_roster(tmp_path / name, [worker_row(i) for i in rows]),
                      agency=resolve_agency("15.05"), today=date(2026, 1, 5), trigger="test",
                      endings=NO_LIMIT)  # fmt: skip
    return gw
