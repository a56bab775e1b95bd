"""Jamsos Gateway: enrol government non-ASN workers into BPJS Ketenagakerjaan.

The public face for plugin authors (docs/writing-a-plugin.md): the hook marker, the classes to
subclass (sources bring rosters in, destinations tell BPJS), the canonical records every feed
produces, the messages and problems a rule reports, the region table and NIK helpers a rule or
a sample server needs, and the demo roster generator for `prepare_demo`. A plugin imports from
here (and its tests from `gateway.testing`) only: the modules behind these names move as the
gateway grows, these names stay (an import-linter contract in pyproject.toml holds the plugins
to it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.delivery.base import (
    Ack,
    AckPage,
    AnswerFileError,
    DeliveryError,
    Destination,
    Employer,
    OutgoingMutation,
)
from gateway.domain.alerts import Alert, AlertSettings
from gateway.domain.nik import make_nik
from gateway.domain.records import (
    Category,
    EnrollmentRecord,
    Gender,
    Message,
    Problem,
    RawRow,
    RowResult,
    Severity,
    make_problem,
)
from gateway.domain.regions import Region, all_regions, get_region
from gateway.sources.base import CsvSource, Fetch, SoapSource, Source, StatusFlag
from gateway.sources.hookspecs import hookimpl
from gateway.verify.elements import Person, Verdict, VerifierSettings

if TYPE_CHECKING:
    from gateway.demo.rosters import generate_roster, write_csv

__all__ = [
    "Ack",
    "AckPage",
    "Alert",
    "AlertSettings",
    "AnswerFileError",
    "Category",
    "CsvSource",
    "DeliveryError",
    "Destination",
    "Employer",
    "EnrollmentRecord",
    "Fetch",
    "Gender",
    "Message",
    "OutgoingMutation",
    "Person",
    "Problem",
    "RawRow",
    "Region",
    "RowResult",
    "Severity",
    "SoapSource",
    "Source",
    "StatusFlag",
    "Verdict",
    "VerifierSettings",
    "all_regions",
    "generate_roster",
    "get_region",
    "hookimpl",
    "make_nik",
    "make_problem",
    "write_csv",
]


def __getattr__(name: str) -> Any:
    # The demo roster generator only serves `prepare_demo` hooks: loaded on first use, so
    # `import gateway` (every plugin, every command) does not pay for its word lists.
    if name in ("generate_roster", "write_csv"):
        from gateway.demo import rosters

        return getattr(rosters, name)
    raise AttributeError(f"module 'gateway' has no attribute {name!r}")
