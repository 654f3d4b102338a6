"""Charts as inline SVG, drawn on the server: no script library, nothing fetched, and they print.

Each chart is a `<figure>` with a visible caption (its title), an `<svg role="img">` whose `<title>` and
`<desc>` say the same with every number, and the numbers written as text beside the bars: a person
reading a printout gets the figures without hovering. With no data (nothing, or only zeros) a chart is
an empty-state sentence instead; nothing divides by zero.

Every label is escaped (facility names come from an imported registry). No `style` attribute anywhere:
the Content-Security-Policy forbids inline styles; colours are SVG presentation attributes and classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

EMPTY_TEXT = "Không có số liệu trong kỳ này."
FONT = 13  # px in the drawing; the SVG scales with the page
WIDTH = 640
PRIMARY = "#0b5394"  # the site's blue: reads dark in greyscale print
SECONDARY = "#e69138"  # orange: reads light in greyscale print, and the values are written anyway


@dataclass(frozen=True)
class Series:
    """One set of bars (e.g. "Tiếp nhận"), a value per category, drawn in `colour`."""

    name: str
    values: Sequence[int]
    colour: str = PRIMARY


def number_vi(n: int) -> str:
    """12345 -> "12.345" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def bar_length(value: int, largest: int, span: float) -> float:
    """The length of a bar of `value` when the largest bar is `span` long; 0 when there is nothing."""
    if largest <= 0 or value <= 0:
        return 0.0
    return round(span * value / largest, 2)


def _nice_step(largest: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 × 10^k) giving about `ticks` grid lines up to `largest`."""
    raw = max(1.0, largest / ticks)
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _figure(chart_id: str, title: str, svg: str) -> Markup:
    return Markup(
        f'<figure class="chart" id="{escape(chart_id)}">'
        f'<figcaption class="chart-title">{escape(title)}</figcaption>{svg}</figure>'
    )


def _empty(chart_id: str, title: str) -> Markup:
    return Markup(
        f'<figure class="chart chart-empty" id="{escape(chart_id)}">'
        f'<figcaption class="chart-title">{escape(title)}</figcaption>'
        f'<p class="chart-empty-text">{escape(EMPTY_TEXT)}</p></figure>'
    )


def _open_svg(chart_id: str, title: str, desc: str, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
        f'viewBox="0 0 {WIDTH} {height:g}" width="{WIDTH}" height="{height:g}" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" font-size="{FONT}">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", cls: str = "", weight: str = "") -> str:
    extra = f' class="{cls}"' if cls else ""
    extra += f' font-weight="{weight}"' if weight else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _legend(series: Sequence[Series], y: float) -> str:
    parts = []
    x = 0.0
    for s in series:
        parts.append(f'<rect x="{x:g}" y="{y - 10:g}" width="12" height="12" fill="{escape(s.colour)}"/>')
        parts.append(_text(x + 18, y, s.name))
        x += 18 + 8.5 * len(s.name) + 24
    return "".join(parts)


def horizontal_bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    value_label: str,
) -> Markup:
    """One row per label: the label on its own line (long Vietnamese names never collide with the bars),
    then one bar per series with its value written at the bar's end. `value_label` names the unit
    ("Số phản ánh") under the chart."""
    values = [v for s in series for v in s.values]
    if not labels or not series or max(values, default=0) <= 0:
        return _empty(chart_id, title)
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    largest = max(values)
    label_h, bar_h, gap = 18.0, 16.0, 12.0
    value_room = 12 + 8 * len(number_vi(largest))  # the longest value fits right of the longest bar
    span = WIDTH - value_room
    top = 24.0 if len(series) > 1 else 0.0
    row_h = label_h + bar_h * len(series) + gap
    height = top + row_h * len(labels) + 22
    desc_parts = []
    body: list[str] = []
    if len(series) > 1:
        body.append(_legend(series, 14))
    for i, label in enumerate(labels):
        y = top + i * row_h
        body.append(_text(0, y + 13, label, cls="chart-label"))
        shown = []
        for j, s in enumerate(series):
            value = s.values[i]
            by = y + label_h + j * bar_h
            length = bar_length(value, largest, span)
            body.append(
                f'<rect class="bar" x="0" y="{by:g}" width="{length:g}" height="{bar_h - 3:g}" '
                f'fill="{escape(s.colour)}" data-value="{value}"/>'
            )
            body.append(_text(length + 6, by + bar_h - 5, number_vi(value), cls="chart-value", weight="700"))
            shown.append(f"{s.name} {number_vi(value)}" if len(series) > 1 else number_vi(value))
        desc_parts.append(f"{label}: {', '.join(shown)}")
    body.append(f'<line x1="0" y1="{top:g}" x2="0" y2="{height - 22:g}" stroke="#4a4a4a" stroke-width="1"/>')
    body.append(_text(0, height - 4, value_label, cls="chart-axis"))
    desc = f"{value_label}. " + "; ".join(desc_parts) + "."
    return _figure(chart_id, title, _open_svg(chart_id, title, desc, height) + "".join(body) + "</svg>")


def columns(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    x_label: str,
    y_label: str,
) -> Markup:
    """Vertical columns (e.g. tickets by month), a value above each and a labelled scale on the left."""
    if len(labels) != len(values):
        raise ValueError("one value per label")
    if not labels or max(values, default=0) <= 0:
        return _empty(chart_id, title)
    largest = max(values)
    step = _nice_step(largest)
    scale_top = step * -(-largest // step)  # the first grid line at or above the largest value
    left, right, top, plot_h = 48.0, 8.0, 28.0, 200.0
    plot_w = WIDTH - left - right
    slot = plot_w / len(labels)
    rotate = max(len(label) for label in labels) * FONT * 0.6 > slot * 0.95  # labels would touch
    bottom_labels = 44.0 if rotate else 22.0
    height = top + plot_h + bottom_labels + 24
    col_w = min(56.0, slot * 0.7)
    body: list[str] = [_text(0, 12, y_label, cls="chart-axis")]
    tick = 0
    while tick <= scale_top:
        y = top + plot_h - bar_length(tick, scale_top, plot_h)
        body.append(f'<line x1="{left:g}" y1="{y:g}" x2="{WIDTH - right:g}" y2="{y:g}" stroke="#d0d0d0"/>')
        body.append(_text(left - 6, y + 4, number_vi(tick), anchor="end", cls="chart-tick"))
        tick += step
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cx = left + slot * i + slot / 2
        h = bar_length(value, scale_top, plot_h)
        y = top + plot_h - h
        body.append(
            f'<rect class="bar" x="{cx - col_w / 2:g}" y="{y:g}" width="{col_w:g}" height="{h:g}" '
            f'fill="{PRIMARY}" data-value="{value}"/>'
        )
        body.append(_text(cx, y - 5, number_vi(value), anchor="middle", cls="chart-value", weight="700"))
        ly = top + plot_h + 16
        if rotate:
            body.append(
                f'<text x="{cx:g}" y="{ly:g}" text-anchor="end" class="chart-tick" '
                f'transform="rotate(-45 {cx:g} {ly:g})">{escape(label)}</text>'
            )
        else:
            body.append(_text(cx, ly, label, anchor="middle", cls="chart-tick"))
    body.append(
        f'<line x1="{left:g}" y1="{top + plot_h:g}" x2="{WIDTH - right:g}" y2="{top + plot_h:g}" '
        'stroke="#4a4a4a"/>'
    )
    body.append(_text(left + plot_w / 2, height - 4, x_label, anchor="middle", cls="chart-axis"))
    desc = f"{y_label} theo {x_label.lower()}: " + "; ".join(
        f"{label}: {number_vi(v)}" for label, v in zip(labels, values, strict=True)
    )
    return _figure(chart_id, title, _open_svg(chart_id, title, desc + ".", height) + "".join(body) + "</svg>")
