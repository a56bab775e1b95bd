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


def log_in_browser(page: Any, base: str, username: str = "siti",
                   password: str = PASSWORD) -> None:  # fmt: skip
    """Log in through the login form in a real browser and wait for the overview."""
    page.goto(f"{base}/dashboard/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_selector("h1:has-text('Ringkasan kepatuhan')")


def confirm_endings_in_browser(page: Any) -> str:
    """The upload page's second step: type the count of workers it says the roster ends, and
    submit. Returns that count."""
    page.wait_for_selector("#confirm-step:not([hidden])")
    count = re.search(r"mengakhiri kepesertaan (\d+)", page.inner_text("#confirm-text")).group(1)
    page.fill("#confirm-endings", count)
    page.click("#confirm-submit")
    return count
