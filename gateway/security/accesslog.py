"""gunicorn's access log without NIKs: `jamsos serve` logs through `MaskingLogger` (no SQL,
no key: it sits with the other protections of PII, whatever process loads it).

The API takes a NIK only in a request body (POST /api/v1/workers/lookup), but a client still
calling the old `GET /api/v1/workers/{nik}`, a mistyped URL or a query string can carry one,
and access logs keep every URL, also of refused requests, for as long as logs are kept. Any
run of 16 digits in what the log line takes from the request (request line, path, query,
referer) is kept as its region and last four digits, as the dashboard shows a NIK.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_NIK_LIKE = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{4})(?!\d)")


def mask_niks(text: str) -> str:
    """Every standalone 16-digit run in `text` masked: 150501******0001."""
    return _NIK_LIKE.sub(r"\1******\2", text)


class MaskingLogger(Logger):
    """gunicorn's logger; access-log atoms pass through `mask_niks`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        found = super().atoms(resp, req, environ, request_time)
        return {k: mask_niks(v) if isinstance(v, str) else v for k, v in found.items()}
