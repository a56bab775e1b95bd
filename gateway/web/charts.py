"""Small server-side SVG charts: no JavaScript, no CDN, readable when printed.

Each function returns markup ready for a template. Every chart carries a <title> and an
aria-label, and the page shows the same figures in a table beside it, so a chart is never
the only way to read a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

GREEN, AMBER, RED, BLUE, GREY = "#2e7d32", "#b26a00", "#c62828", "#1f5fa8", "#9aa5b1"


def sparkline(
    values: Sequence[float | None], *, width: int = 120, height: int = 28, label: str = ""
) -> Markup:
    """Reject rate (0-1) of the latest runs, oldest left. A missing value (a run with no rows)
    is a gap; the last point is a dot coloured by how bad it is."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return Markup('<span class="muted">–</span>')
    top = max(0.05, max(v for _, v in points))  # a flat 0 % line sits on the floor, visibly
    step = (width - 8) / max(1, len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 4 + i * step, height - 4 - (height - 8) * (v / top)

    path = " ".join(f"{'M' if n == 0 else 'L'}{x:.1f},{y:.1f}" for n, (x, y) in
                    enumerate(xy(i, v) for i, v in points))
    last_i, last_v = points[-1]
    lx, ly = xy(last_i, last_v)
    colour = RED if last_v > 0.10 else AMBER if last_v > 0.02 else GREEN
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        f'<line x1="4" y1="{height - 4}" x2="{width - 4}" y2="{height - 4}" stroke="#d8dee4"/>'
        f'<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="3" fill="{colour}"/></svg>'
    )


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[int, ...]  # one per series
    note: str = ""  # printed at the right end, e.g. "42 %"
    highlight: bool = False  # e.g. a shortfall: the label is drawn in red


def bar_chart(
    bars: Sequence[Bar],
    series: Sequence[tuple[str, str]],  # (name, colour)
    *,
    title: str,
    width: int = 860,
    value_format=str,  # type: ignore[no-untyped-def]
) -> Markup:
    """Horizontal grouped bars, one group per `Bar`, a legend on top; a phone gets the
    narrow drawing (`_narrow_bars`), its text as large as the desktop's."""
    if not bars:
        return Markup("")
    return _both(_wide_bars(bars, series, title, width, value_format),
                 _narrow_bars(bars, series, title, value_format))


def _wide_bars(bars: Sequence[Bar], series: Sequence[tuple[str, str]], title: str, width: int,
               value_format) -> str:  # type: ignore[no-untyped-def]
    n = len(series)
    bar_h, gap = 11, 10
    group_h = n * bar_h + gap
    top = 26
    height = top + len(bars) * group_h + 4
    label_width = int(min(300, 12 + max(_text_width(_clip(b.label, 40)) for b in bars)))
    note_width = int(16 + 1.12 * max(_text_width(b.note) for b in bars))  # notes may be bold
    plot_w = max(120, width - label_width - note_width)
    width = label_width + plot_w + note_width
    biggest = max(1, *(v for b in bars for v in b.values))
    parts = [_open_svg(width, height, title, "wide"), _legend(series, label_width, width)[0]]
    for row, bar in enumerate(bars):
        y0 = top + row * group_h
        cls = "label bad" if bar.highlight else "label"
        parts.append(
            f'<text x="{label_width - 8}" y="{y0 + n * bar_h / 2 + 4:.1f}" text-anchor="end" '
            f'class="{cls}">{escape(_clip(bar.label, 40))}</text>'
        )
        for s, (value, (name, colour)) in enumerate(zip(bar.values, series, strict=True)):
            w = plot_w * value / biggest
            y = y0 + s * bar_h
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="{max(w, 1 if value else 0):.1f}" '
                f'height="{bar_h - 2}" fill="{colour}"><title>{escape(bar.label)} — '
                f"{escape(name)}: {escape(value_format(value))}</title></rect>"
            )
        if bar.note:
            end = label_width + plot_w * max(bar.values) / biggest
            parts.append(
                f'<text x="{end + 6:.1f}" y="{y0 + n * bar_h / 2 + 4:.1f}" '
                f'class="{"note bad" if bar.highlight else "note"}">{escape(bar.note)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _narrow_bars(bars: Sequence[Bar], series: Sequence[tuple[str, str]], title: str,
                 value_format) -> str:  # type: ignore[no-untyped-def]
    """Each group's label (and note) on a line of its own above its bars, full width."""
    legend, top = _legend(series, 0, NARROW)
    n = len(series)
    bar_h = 11
    biggest = max(1, *(v for b in bars for v in b.values))
    parts, y = [legend], top
    for bar in bars:
        head, y = _heading(bar.label, bar.note, y, bad=bar.highlight)
        parts.append(head)
        for s, (value, (name, colour)) in enumerate(zip(bar.values, series, strict=True)):
            w = (NARROW - 2) * value / biggest
            parts.append(
                f'<rect x="0" y="{y + s * bar_h}" width="{max(w, 1 if value else 0):.1f}" '
                f'height="{bar_h - 2}" fill="{colour}"><title>{escape(bar.label)} — '
                f"{escape(name)}: {escape(value_format(value))}</title></rect>"
            )
        y += n * bar_h + 8
    return _open_svg(NARROW, y, title, "narrow") + "".join(parts) + "</svg>"


def progress_chart(
    rows: Sequence[tuple[str, float, str]],  # (label, fraction 0-1 or more, note)
    *,
    title: str,
    width: int = 620,
) -> Markup:
    """One bar per row filled to its fraction of the target."""
    if not rows:
        return Markup("")
    return _both(_wide_progress(rows, title, width), _narrow_progress(rows, title))


def _colour(fraction: float) -> str:
    return GREEN if fraction >= 0.9 else AMBER if fraction >= 0.5 else RED


def _wide_progress(rows: Sequence[tuple[str, float, str]], title: str, width: int) -> str:
    bar_h, gap, top = 16, 8, 8
    height = top + len(rows) * (bar_h + gap)
    label_width = int(min(260, 12 + max(_text_width(_clip(r[0], 34)) for r in rows)))
    note_width = int(12 + max(_text_width(r[2]) for r in rows))
    plot_w = max(100, width - label_width - note_width)
    width = label_width + plot_w + note_width
    parts = [_open_svg(width, height, title, "wide")]
    for i, (label, fraction, note) in enumerate(rows):
        y = top + i * (bar_h + gap)
        filled = plot_w * min(fraction, 1.0)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 12}" text-anchor="end" class="label">'
            f"{escape(_clip(label, 34))}</text>"
            f'<rect x="{label_width}" y="{y}" width="{plot_w}" height="{bar_h}" '
            f'fill="#eef1f4"/><rect x="{label_width}" y="{y}" width="{filled:.1f}" '
            f'height="{bar_h}" fill="{_colour(fraction)}"><title>{escape(label)}: '
            f'{escape(note)}</title></rect>'
            f'<text x="{label_width + plot_w + 6}" y="{y + 12}" class="note">{escape(note)}'
            "</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _narrow_progress(rows: Sequence[tuple[str, float, str]], title: str) -> str:
    parts, y = [], 4
    for label, fraction, note in rows:
        head, y = _heading(label, note, y)
        parts.append(
            head + f'<rect x="0" y="{y}" width="{NARROW}" height="14" fill="#eef1f4"/>'
            f'<rect x="0" y="{y}" width="{NARROW * min(fraction, 1.0):.1f}" height="14" '
            f'fill="{_colour(fraction)}"><title>{escape(label)}: {escape(note)}</title></rect>'
        )
        y += 22
    return _open_svg(NARROW, y, title, "narrow") + "".join(parts) + "</svg>"


def column_chart(
    columns: Sequence[tuple[str, tuple[int, ...]]],  # (x label, one value per series)
    series: Sequence[tuple[str, str]],
    *,
    title: str,
    width: int = 600,
    height: int = 180,
    value_format=lambda v: f"{v:,}",  # type: ignore[no-untyped-def]
) -> Markup:
    """Vertical grouped columns over time (e.g. new / ended workers per month); numbers are
    written by `value_format` (the page's language: 4.502 in Bahasa Indonesia). A phone gets
    the last 12 columns, drawn NARROW wide."""
    if not columns:
        return Markup("")
    return _both(_columns(columns, series, title, width, height, value_format, "wide"),
                 _columns(columns[-12:], series, title, NARROW, height, value_format, "narrow"))


def _columns(columns: Sequence[tuple[str, tuple[int, ...]]], series: Sequence[tuple[str, str]],
             title: str, width: int, height: int, value_format,  # type: ignore[no-untyped-def]
             variant: str) -> str:
    n = len(series)
    legend, top = _legend(series, 48, width)
    top += 4
    bottom, left = 22, 48
    height += top - 28
    plot_h = height - top - bottom
    slot = (width - left - 8) / len(columns)
    col_w = max(2.0, min(14.0, (slot - 4) / n))
    biggest = max(1, *(v for _, values in columns for v in values))
    parts = [
        _open_svg(width, height, title, variant) + legend
        + f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="note">'
        f"{escape(value_format(biggest))}</text>"
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        'stroke="#c5ced6"/>'
    ]
    # x labels at least 64 px apart (a month, "2025-03", is ~50 px at 12 px), never overlapping
    every = max(1, -(-64 // max(1, int(slot))))
    for i, (label, values) in enumerate(columns):
        x0 = left + i * slot + (slot - col_w * n) / 2
        for s, (value, (name, colour)) in enumerate(zip(values, series, strict=True)):
            h = plot_h * value / biggest
            parts.append(
                f'<rect x="{x0 + s * col_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{col_w - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)} — {escape(name)}: "
                f"{escape(value_format(value))}</title></rect>"
            )
        if (len(columns) - 1 - i) % every == 0:  # the latest month always labelled
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle" class="note">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


# -- shared parts ---------------------------------------------------------------------------------

NARROW = 320  # a phone's card (375 px screen) is ~330 px wide: drawn at 1:1, text stays 12 px


def _both(wide: str, narrow: str) -> Markup:
    """Both drawings; the stylesheet shows one by the screen's width (app.css)."""
    return Markup(wide + narrow)


def _legend(series: Sequence[tuple[str, str]], x0: int, width: int) -> tuple[str, int]:
    """The series' colour keys from `x0`, wrapping to a new line when the width ends; the
    markup and the y where the drawing below may start."""
    parts, x, y = [], x0, 4
    for name, colour in series:
        need = 24 + _text_width(name)
        if x > x0 and x + need > width:
            x, y = x0, y + 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{y + 10}" class="legend">{escape(name)}</text>'
        )
        x += int(need)
    return "".join(parts), y + 22


def _heading(label: str, note: str, y: int, *, bad: bool = False) -> tuple[str, int]:
    """A narrow chart's line of text above its bars: the label, then the note on the same
    line when both fit, else on a line of its own. The markup and the y below it."""
    cls = "label bad" if bad else "label"
    note_cls = "note bad" if bad else "note"
    label = _clip(label, 38)
    if not note:
        return f'<text x="0" y="{y + 12}" class="{cls}">{escape(label)}</text>', y + 17
    if _text_width(label) + _text_width(note) + 12 <= NARROW:
        return (f'<text x="0" y="{y + 12}" class="{cls}">{escape(label)}</text>'
                f'<text x="{NARROW}" y="{y + 12}" text-anchor="end" class="{note_cls}">'
                f"{escape(note)}</text>"), y + 17
    return (f'<text x="0" y="{y + 12}" class="{cls}">{escape(label)}</text>'
            f'<text x="0" y="{y + 28}" class="{note_cls}">{escape(_clip(note, 44))}</text>'
            ), y + 33


def _text_width(text: str) -> float:
    """Rough width in pixels of `text` at the charts' 12 px font: labels and notes get room
    for what they say instead of a fixed margin that cuts long region names."""
    return sum(8.2 if c.isupper() else 6.8 for c in text)


def _open_svg(width: int, height: int, title: str, variant: str) -> str:
    # A fixed pixel size (scaled down only when the card is narrower): text keeps its size
    # whatever the card's width, instead of growing with a stretched viewBox. `variant` is
    # "wide" or "narrow": the stylesheet shows the one drawn for the screen.
    return (
        f'<svg class="chart {variant}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
