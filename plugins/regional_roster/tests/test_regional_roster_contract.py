"""The gateway's standard plugin checks, for a regency configured as a source."""

from typing import Any, ClassVar

from jamsos_regional_roster import RegionalRoster

from gateway.testing import SourceContract


class TestRegionalRosterContract(SourceContract):
    source_class = RegionalRoster
    settings: ClassVar[dict[str, Any]] = {"agency": "15.05"}
