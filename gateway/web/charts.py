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
    """Horizontal grouped bars, one group per `Bar`, a legend on top."""
    if not bars:
        return Markup("")
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
    parts = [_open_svg(width, height, title)]
    x = label_width
    for name, colour in series:
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="14" class="legend">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
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
    return Markup("".join(parts))


def progress_chart(
    rows: Sequence[tuple[str, float, str]],  # (label, fraction 0-1 or more, note)
    *,
    title: str,
    width: int = 620,
) -> Markup:
    """One bar per row filled to its fraction of the target."""
    if not rows:
        return Markup("")
    bar_h, gap, top = 16, 8, 8
    height = top + len(rows) * (bar_h + gap)
    label_width = int(min(260, 12 + max(_text_width(_clip(r[0], 34)) for r in rows)))
    note_width = int(12 + max(_text_width(r[2]) for r in rows))
    plot_w = max(100, width - label_width - note_width)
    width = label_width + plot_w + note_width
    parts = [_open_svg(width, height, title)]
    for i, (label, fraction, note) in enumerate(rows):
        y = top + i * (bar_h + gap)
        filled = plot_w * min(fraction, 1.0)
        colour = GREEN if fraction >= 0.9 else AMBER if fraction >= 0.5 else RED
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 12}" text-anchor="end" class="label">'
            f"{escape(_clip(label, 34))}</text>"
            f'<rect x="{label_width}" y="{y}" width="{plot_w}" height="{bar_h}" fill="#eef1f4"/>'
            f'<rect x="{label_width}" y="{y}" width="{filled:.1f}" height="{bar_h}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(note)}</title></rect>'
            f'<text x="{label_width + plot_w + 6}" y="{y + 12}" class="note">{escape(note)}'
            "</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
    written by `value_format` (the page's language: 4.502 in Bahasa Indonesia)."""
    if not columns:
        return Markup("")
    n = len(series)
    top, bottom, left = 24, 22, 48
    plot_h = height - top - bottom
    slot = (width - left - 8) / len(columns)
    col_w = max(2.0, min(14.0, (slot - 4) / n))
    biggest = max(1, *(v for _, values in columns for v in values))
    parts = [
        _open_svg(width, height, title)
        + f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="note">'
        f"{escape(value_format(biggest))}</text>"
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" '
        'stroke="#c5ced6"/>'
    ]
    x = left
    for name, colour in series:
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="14" class="legend">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    every = max(1, len(columns) // 12)  # at most ~12 x labels, so they never overlap
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
        if i % every == 0:
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle" class="note">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _text_width(text: str) -> float:
    """Rough width in pixels of `text` at the charts' 12 px font: labels and notes get room
    for what they say instead of a fixed margin that cuts long region names."""
    return sum(8.2 if c.isupper() else 6.8 for c in text)


def _open_svg(width: int, height: int, title: str) -> str:
    # A fixed pixel size (scaled down only when the card is narrower): text keeps its size
    # whatever the card's width, instead of growing with a stretched viewBox.
    return (
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
