"""Logging in to the dashboard from a test client (the user `seed` creates in
tests/web/conftest.py)."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "kata-sandi-uji-123"


def csrf_of(html: str) -> str:
    """The CSRF token of a dashboard form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: Any, username: str = "siti", password: str = PASSWORD) -> Any:
    """Post the login form as `username`; the response (a 302 when it worked)."""
    token = csrf_of(client.get("/dashboard/login").text)
    return client.post(
        "/dashboard/login", data={"username": username, "password": password, "csrf_token": token}
    )
