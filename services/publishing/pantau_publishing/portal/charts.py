"""Bar charts rendered on the server as plain HTML: readable without JavaScript, at the page's
own font size on a phone (an SVG scaled to 390 px shrank its labels to ~5 px), never clipping a
long department name, and accessible (each bar carries its number AND its series name as text,
so colour is not the only way to tell the series apart; the page also has a data table).

A bar's width is one of 101 classes ``w0``…``w100`` (whole percent of the track, defined in
``static/portal.css``): no inline style, so the Content-Security-Policy needs no
``'unsafe-inline'`` for styles, and a 1 % step is finer than a pixel on a phone's track.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

SERIES_CLASSES = ("c0", "c1", "c2", "c3")


def bars(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
         unit: str = "", scale: float | None = None) -> Markup:
    """Horizontal grouped bars: one group per label, one bar per series. Empty markup when
    there is nothing to show. ``scale``: the value of a full track (100 for percentages, so
    90 % never looks like all); by default the largest value."""
    if not labels:
        return Markup("")
    peak = scale or max((v for _name, values in series for v in values), default=0) or 1
    parts = [f'<figure class="chart" aria-label="{escape(title)}">']
    if len(series) > 1:
        parts.append('<ul class="legend" aria-hidden="true">')
        for index, (name, _values) in enumerate(series):
            parts.append(f'<li><span class="sw {SERIES_CLASSES[index % 4]}"></span>'
                         f"{escape(name)}</li>")
        parts.append("</ul>")
    parts.append('<dl class="bars">')
    for row, label in enumerate(labels):
        parts.append(f"<dt>{escape(label)}</dt><dd>")
        for index, (name, values) in enumerate(series):
            value = values[row]
            width = round(100 * max(0.0, min(1.0, value / peak)))
            parts.append(  # the track leaves room for the number and series name
                f'<span class="bar"><span class="fill {SERIES_CLASSES[index % 4]} w{width}">'
                "</span>"
                f'<span class="val">{_fmt(value)}{escape(unit)} '
                f'<span class="sname">{escape(name.lower())}</span></span></span>')
        parts.append("</dd>")
    parts.append("</dl></figure>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
