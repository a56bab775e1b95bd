"""Language and number formatting of the dashboard: Bahasa Indonesia by default, English on
request (`?lang=en`, remembered in the session).

Texts sit in the templates as pairs, `tr("Ringkasan", "Overview")`, rather than in a catalog
keyed by ids: each page reads as what it says, and a missing translation is impossible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request, session

from gateway.clock import WIB
from gateway.store.db import aware

LANGS = ("id", "en")
# Compliance staff work on Jakarta time; a fixed offset needs no tz database.


def current_lang() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGS:
        session["lang"] = chosen
        return chosen
    lang = session.get("lang")
    return lang if lang in LANGS else "id"


def tr(id_text: str, en_text: str) -> str:
    return en_text if current_lang() == "en" else id_text


def fmt_int(value: int | None) -> str:
    if value is None:
        return "–"
    text = f"{value:,}"
    return text if current_lang() == "en" else text.replace(",", ".")


def fmt_rp(value: int | None) -> str:
    return "–" if value is None else f"Rp {fmt_int(value)}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f} %"
    return text if current_lang() == "en" else text.replace(".", ",")


def fmt_dt(moment: datetime | None) -> str:
    moment = aware(moment)
    return "–" if moment is None else moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        text = f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
        return text if current_lang() == "en" else text.replace(".", ",")  # 0,4 s
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s"
    hours, minutes = divmod(minutes, 60)
    return tr(f"{hours} jam {minutes} min", f"{hours} h {minutes} min")


def fmt_age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest sensible unit: "3 hari lalu" / "3 days ago"."""
    moment = aware(moment)
    if moment is None:
        return tr("belum pernah", "never")
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    for size, id_unit, en_unit in (
        (86400, "hari", "day"),
        (3600, "jam", "hour"),
        (60, "menit", "minute"),
    ):
        if seconds >= size:
            n = int(seconds // size)
            return tr(f"{n} {id_unit} lalu", f"{n} {en_unit}{'s' if n > 1 else ''} ago")
    return tr("baru saja", "just now")


# A roster field by its name on the page (the data keeps the canonical field ids).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "nik": ("NIK", "NIK"),
    "name": ("Nama", "Name"),
    "gender": ("Jenis kelamin", "Gender"),
    "birth_date": ("Tanggal lahir", "Birth date"),
    "position": ("Jabatan", "Position"),
    "work_unit": ("Unit kerja", "Work unit"),
    "wage": ("Upah", "Wage"),
    "start_date": ("TMT", "Start date (TMT)"),
    "category": ("Kategori", "Category"),
    "kpj": ("KPJ", "KPJ"),
}


def field_label(field: str | None) -> str:
    """A field as the page's language names it; a plugin's own field as it is called."""
    if not field:
        return "-"
    found = FIELD_LABELS.get(field)
    return tr(*found) if found else field


def template_helpers() -> dict[str, Any]:
    return {
        "field_label": field_label,
        "tr": tr,
        "lang": current_lang(),
        "fmt_int": fmt_int,
        "fmt_rp": fmt_rp,
        "fmt_pct": fmt_pct,
        "fmt_dt": fmt_dt,
        "fmt_age": fmt_age,
        "fmt_duration": fmt_duration,
    }
