"""Inline SVG bar charts, rendered on the server: readable without JavaScript, accessible (each
chart has a title, a description and a data table next to it in the page)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

COLOURS = ("#1f5fa8", "#2e7d32", "#b26a00", "#b3261e")


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
         unit: str = "") -> Markup:
    """Horizontal grouped bars: one group per label, one bar per series."""
    if not labels:
        return Markup("")
    bar_h, gap, label_w, width = 14, 10, 170, 560
    group_h = bar_h * len(series) + gap
    legend_h = 22
    height = legend_h + group_h * len(labels) + 4
    peak = max((v for _name, values in series for v in values), default=0) or 1
    scale = (width - label_w - 60) / peak
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" class="chart" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    x = label_w
    for index, (name, _values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="15" font-size="12">{escape(name)}</text>')
        x += 18 + 8 * len(name)
    for row, label in enumerate(labels):
        top = legend_h + row * group_h
        parts.append(f'<text x="{label_w - 6}" y="{top + bar_h}" font-size="12" '
                     f'text-anchor="end">{escape(label[:26])}</text>')
        for index, (_name, values) in enumerate(series):
            value = values[row]
            y = top + index * bar_h
            w = max(1.0, value * scale)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" '
                         f'fill="{COLOURS[index % len(COLOURS)]}"/>'
                         f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}" '
                         f'font-size="11">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
