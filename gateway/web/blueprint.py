"""The dashboard's blueprint object alone, so the view modules can register on it without
importing the package that imports them (`gateway/web/__init__.py` adds the page helpers,
headers and error pages, then imports the views)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "web",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
