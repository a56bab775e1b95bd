"""The gateway's standard plugin checks, against the recorded SIMPEG responses."""

from jamsos_kemenkes import KemenkesPPNPN

from gateway.testing import SourceContract


class TestKemenkesContract(SourceContract):
    source_class = KemenkesPPNPN
