"""The gateway's destination contract checks for the SIPP upload-file destination. The batch
flow around it (prepare, mark uploaded, answers) is tested in
tests/integration/test_delivery_sipp*.py."""

from __future__ import annotations

from jamsos_bpjs_sipp import SippDestination

from gateway.testing import DestinationContract


class TestSippContract(DestinationContract):
    destination_class = SippDestination
