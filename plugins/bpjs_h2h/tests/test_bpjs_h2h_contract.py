"""The gateway's destination contract checks, against the loopback BPJS service."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jamsos_bpjs_h2h import BpjsHostToHost
from jamsos_bpjs_h2h.server import BpjsServer

from gateway.testing import DestinationContract


class TestBpjsHostToHostContract(DestinationContract):
    destination_class = BpjsHostToHost

    @contextmanager
    def counterpart(self) -> Iterator[dict[str, Any]]:
        with tempfile.TemporaryDirectory() as folder, BpjsServer(
            Path(folder) / "bpjs.sqlite", consumers={"kit": "s3cret"}
        ) as service:
            yield {"url": service.url, "consumer_id": "kit", "secret": "s3cret"}
