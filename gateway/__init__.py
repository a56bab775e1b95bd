"""Jamsos Gateway: enrol government non-ASN workers into BPJS Ketenagakerjaan.

The public face for plugin authors (docs/writing-a-plugin.md): the hook marker, the source
classes to subclass, and the canonical records every feed produces.
"""

from gateway.domain.records import (
    Category,
    EnrollmentRecord,
    Gender,
    Problem,
    RawRow,
    RowResult,
    Severity,
)
from gateway.hookspecs import hookimpl
from gateway.sources import CsvSource, Fetch, SoapSource, Source

__all__ = [
    "Category",
    "CsvSource",
    "EnrollmentRecord",
    "Fetch",
    "Gender",
    "Problem",
    "RawRow",
    "RowResult",
    "Severity",
    "SoapSource",
    "Source",
    "hookimpl",
]
