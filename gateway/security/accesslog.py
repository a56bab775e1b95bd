"""gunicorn's access log without NIKs: `jamsos serve` logs through `MaskingLogger` (no SQL,
no key: it sits with the other protections of PII, whatever process loads it).

The API takes a NIK only in a request body (POST /api/v1/workers/lookup), but a client still
calling the old `GET /api/v1/workers/{nik}`, a mistyped URL or a query string can carry one,
and access logs keep every URL, also of refused requests, for as long as logs are kept. Any
run of 16 digits in what the log line takes from the request (request line, path, query,
referer) is kept as its region and last four digits, as the dashboard shows a NIK. The
same holds for werkzeug's development server (`flask run`): `create_app` filters its log.
"""

from __future__ import annotations

import logging
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


class MaskingFilter(logging.Filter):
    """Masks NIK-like runs in a record's message and arguments (werkzeug's request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_niks(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_niks(a) if isinstance(a, str) else a for a in record.args)
        return True


def mask_dev_server_log() -> None:
    """Filter werkzeug's request log (once per process, however many apps are created)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, MaskingFilter) for f in logger.filters):
        logger.addFilter(MaskingFilter())
