"""Jamsos Gateway: enrol government non-ASN workers into BPJS Ketenagakerjaan.

The public face for plugin authors: the canonical records every feed produces.
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

__all__ = [
    "Category",
    "EnrollmentRecord",
    "Gender",
    "Problem",
    "RawRow",
    "RowResult",
    "Severity",
]
