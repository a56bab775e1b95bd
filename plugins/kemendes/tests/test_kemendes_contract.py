"""The gateway's standard plugin checks, against the shipped P3MD export."""

from jamsos_kemendes import KemendesPendamping

from gateway.testing import SourceContract


class TestKemendesContract(SourceContract):
    source_class = KemendesPendamping
