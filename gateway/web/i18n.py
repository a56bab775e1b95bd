"""Language and number formatting of the dashboard: Bahasa Indonesia by default, English on
request (`?lang=en`, remembered in the session).

Texts sit in the templates as pairs, `tr("Ringkasan", "Overview")`, rather than in a catalog
keyed by ids: each page reads as what it says, and a missing translation is impossible.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request, session

from gateway.clock import WIB, aware
from gateway.roster.report import failure_cause, field_name

LANGS = ("id", "en")
# Compliance staff work on Jakarta time; a fixed offset needs no tz database.
_WIB_HOURS = int(WIB.utcoffset(None).total_seconds() // 3600)  # type: ignore[union-attr]


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


_DAYS = (("Minggu", "Sunday"), ("Senin", "Monday"), ("Selasa", "Tuesday"), ("Rabu", "Wednesday"),
         ("Kamis", "Thursday"), ("Jumat", "Friday"), ("Sabtu", "Saturday"))


def schedule_text(schedule: str) -> tuple[str, str]:
    """Common cron patterns in words (Bahasa Indonesia, English); others as written. The
    scheduler reads cron in UTC; the dashboard's times are WIB (UTC+7), so both are given:
    "harian 09:00 WIB (02:00 UTC)". A weekly or monthly day is the scheduler's (UTC) day."""
    parts = schedule.split()
    if len(parts) != 5 or not parts[0].isdigit():
        return schedule, schedule
    minute, hour, day, month, weekday = parts
    if hour == "*" and day == month == weekday == "*":
        return f"tiap jam, menit {minute}", f"hourly at minute {minute}"
    if not hour.isdigit() or month != "*":
        return schedule, schedule
    utc = f"{int(hour):02d}:{int(minute):02d} UTC"
    wib_hour = int(hour) + _WIB_HOURS
    wib = f"{wib_hour % 24:02d}:{int(minute):02d} WIB"
    if day == weekday == "*":
        return f"harian {wib} ({utc})", f"daily {wib} ({utc})"
    # Past 17:00 UTC the WIB time is on the next day.
    next_id, next_en = (" keesokan harinya", " the next day") if wib_hour >= 24 else ("", "")
    if day == "*" and weekday.isdigit() and int(weekday) <= 7:
        name_id, name_en = _DAYS[int(weekday) % 7]
        return (f"mingguan, {name_id} {utc} ({wib}{next_id})",
                f"weekly, {name_en} {utc} ({wib}{next_en})")  # fmt: skip
    if weekday == "*" and day.isdigit():
        return (f"bulanan, tgl {day} {utc} ({wib}{next_id})",
                f"monthly, day {day} {utc} ({wib}{next_en})")  # fmt: skip
    return schedule, schedule


def field_label(field: str | None) -> str:
    """A field as the page's language names it (gateway/roster/report.py's FIELD_NAMES, which
    the CLI prints too); a plugin's own field as it is called."""
    return field_name(field).in_(current_lang())


def cause_text(error: str | None) -> str:
    """A failed run's recorded cause in the page's language (report.py's failure_cause)."""
    cause = failure_cause(error)
    return "" if cause is None else cause.in_(current_lang())


def template_helpers() -> dict[str, Any]:
    return {
        "field_label": field_label,
        "cause_text": cause_text,
        "tr": tr,
        "lang": current_lang(),
        "fmt_int": fmt_int,
        "fmt_rp": fmt_rp,
        "fmt_pct": fmt_pct,
        "fmt_dt": fmt_dt,
        "fmt_age": fmt_age,
        "fmt_duration": fmt_duration,
    }
