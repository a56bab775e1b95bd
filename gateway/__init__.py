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
from gateway.sources.base import CsvSource, Fetch, SoapSource, Source
from gateway.sources.hookspecs import hookimpl

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
