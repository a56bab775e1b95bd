"""The gateway's standard plugin checks, against the shipped SIPD export."""

from jamsos_apbd import SipdBudget

from gateway.testing import SourceContract


class TestApbdContract(SourceContract):
    source_class = SipdBudget
