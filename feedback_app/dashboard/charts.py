"""Server-side SVG charts for the dashboard: pure functions from figures to markup, every label escaped."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from feedback_app.dashboard.numbers import data_value, format_count, format_pct

LABEL_CHARS = 26  # a longer name is cut with an ellipsis; the whole name stays in the element's <title>


@dataclass(frozen=True)
class TrendPoint:
    """One month of the trend: what was received and handled, and the on-time share of the handled."""

    key: str  # "2026-03"
    label: str  # "T3/26"
    received: int
    handled: int
    on_time_pct: float | None


@dataclass(frozen=True)
class BreakdownRow:
    """One field or area of a breakdown."""

    key: str
    label: str
    received: int
    handled: int
    handled_pct: float | None
    on_time_pct: float | None


def _attr(value) -> str:
    return str(escape(str(value)))


def _num(value: float) -> str:
    """Coordinates with at most two decimals: short, stable markup."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _safe_id(value: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", value.lower()) or "chart"


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def nice_scale(maximum: float, divisions: int = 4) -> tuple[float, float]:
    """A round step (1, 2 or 5 x 10^k, at least 1) and the axis top it gives, for counts up to `maximum`."""
    raw = max(float(maximum), 1.0) / divisions
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)
    top = step * max(1, math.ceil(max(float(maximum), 1.0) / step))
    return step, top


def _open_svg(chart_id: str, width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    cid = _safe_id(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" data-figure="{_attr(chart_id)}">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def trend_chart(points: list[TrendPoint], *, chart_id: str, title: str, desc: str, lang: str,
                legend: dict[str, str]) -> Markup:
    """Received and handled bars per month on a count axis, the on-time % as a line on a 0-100 axis."""
    width, height = 1100, 280
    left, right, top, bottom = 52, 52, 44, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step, axis_top = nice_scale(max([p.received for p in points] + [p.handled for p in points] + [0]))
    slot = plot_w / max(len(points), 1)
    bar_w = min(22.0, slot * 0.34)

    def y_count(value: float) -> float:
        return top + plot_h - plot_h * value / axis_top

    def y_pct(value: float) -> float:
        return top + plot_h - plot_h * value / 100

    out = _open_svg(chart_id, width, height, title, desc, "chart-trend")
    # Grid and the two axes' labels.
    out.append('<g class="grid">')
    ticks = int(round(axis_top / step))
    for i in range(ticks + 1):
        value = step * i
        y = y_count(value)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(y)}" y2="{_num(y)}"/>')
        out.append(f'<text class="axis axis-left" x="{left - 8}" y="{_num(y + 4)}" text-anchor="end">'
                   f'{escape(format_count(int(value), lang))}</text>')
    for pct in range(0, 101, 25):
        y = y_pct(pct)
        out.append(f'<text class="axis axis-right" x="{left + plot_w + 8}" y="{_num(y + 4)}">{pct}%</text>')
    out.append("</g>")
    # Bars.
    out.append('<g class="bars">')
    for i, p in enumerate(points):
        center = left + slot * (i + 0.5)
        for offset, col, value in ((-bar_w - 1, "received", p.received), (1, "handled", p.handled)):
            y = y_count(value)
            out.append(
                f'<rect class="bar bar-{col}" x="{_num(center + offset)}" y="{_num(y)}" width="{_num(bar_w)}" '
                f'height="{_num(top + plot_h - y)}" data-figure="trend" data-month="{_attr(p.key)}" '
                f'data-col="{col}" data-value="{data_value(value)}">'
                f'<title>{escape(p.label)} · {escape(legend[col])}: {escape(format_count(value, lang))}</title></rect>'
            )
        out.append(f'<text class="axis axis-x" x="{_num(center)}" y="{height - bottom + 18}" '
                   f'text-anchor="middle">{escape(p.label)}</text>')
    out.append("</g>")
    # The on-time line: broken where a month handled nothing (no percentage to draw).
    out.append('<g class="line-on-time">')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, p in enumerate(points):
        if p.on_time_pct is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{_num(left + slot * (i + 0.5))},{_num(y_pct(p.on_time_pct))}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            out.append(f'<polyline points="{" ".join(seg)}"/>')
    for i, p in enumerate(points):
        if p.on_time_pct is None:
            continue
        out.append(
            f'<circle cx="{_num(left + slot * (i + 0.5))}" cy="{_num(y_pct(p.on_time_pct))}" r="4" '
            f'data-figure="trend" data-month="{_attr(p.key)}" data-col="on_time_pct" '
            f'data-value="{data_value(p.on_time_pct)}">'
            f'<title>{escape(p.label)} · {escape(legend["on_time_pct"])}: '
            f'{escape(format_pct(p.on_time_pct, lang))}</title></circle>'
        )
    out.append("</g>")
    # Legend.
    out.append('<g class="legend">')
    x = left
    for col in ("received", "handled"):
        out.append(f'<rect class="bar bar-{col}" x="{x}" y="14" width="12" height="12"/>')
        out.append(f'<text x="{x + 18}" y="24">{escape(legend[col])}</text>')
        x += 30 + 8 * len(legend[col])
    out.append(f'<line class="legend-line" x1="{x}" x2="{x + 22}" y1="20" y2="20"/>'
               f'<circle class="legend-dot" cx="{x + 11}" cy="20" r="4"/>')
    out.append(f'<text x="{x + 30}" y="24">{escape(legend["on_time_pct"])}</text>')
    out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


def breakdown_chart(rows: list[BreakdownRow], *, chart_id: str, dimension: str, title: str, desc: str, lang: str,
                    legend: dict[str, str]) -> Markup:
    """One line per field or area: a bar of what was received with the handled part filled in, then the
    handled % and on-time % as figures."""
    width, row_h, head = 560, 28, 30
    label_w = 170
    col_on_time = width - 6
    col_handled = col_on_time - 74
    col_received = col_handled - 76
    bar_x = label_w + 10
    bar_w = col_received - 60 - bar_x
    height = head + row_h * max(len(rows), 1) + 8
    axis_top = max([r.received for r in rows] + [1])  # the longest bar is the largest row

    out = _open_svg(chart_id, width, height, title, desc, "chart-breakdown")
    out.append('<g class="legend">')
    out.append(f'<rect class="bar bar-received" x="{bar_x}" y="9" width="12" height="12"/>'
               f'<text x="{bar_x + 18}" y="19">{escape(legend["received"])}</text>')
    handled_x = bar_x + 30 + 8 * len(legend["received"])
    out.append(f'<rect class="bar bar-handled" x="{handled_x}" y="9" width="12" height="12"/>'
               f'<text x="{handled_x + 18}" y="19">{escape(legend["handled"])}</text>')
    for x, col in ((col_received, "received"), (col_handled, "handled_pct"), (col_on_time, "on_time_pct")):
        out.append(f'<text class="col-head" x="{x}" y="19" text-anchor="end">{escape(legend["col_" + col])}</text>')
    out.append("</g>")
    if not rows:
        out.append(f'<text class="empty" x="{width / 2}" y="{head + 20}" text-anchor="middle">'
                   f'{escape(legend["empty"])}</text>')
    for i, r in enumerate(rows):
        y = head + row_h * i
        mid = y + row_h / 2
        received_w = bar_w * r.received / axis_top if axis_top else 0
        handled_w = bar_w * r.handled / axis_top if axis_top else 0
        out.append(f'<g class="row" data-{dimension}="{_attr(r.key)}">')
        out.append(f'<title>{escape(r.label)}: {escape(legend["received"])} {escape(format_count(r.received, lang))}, '
                   f'{escape(legend["handled"])} {escape(format_count(r.handled, lang))}</title>')
        if i % 2 == 0:
            out.append(f'<rect class="stripe" x="0" y="{_num(y)}" width="{width}" height="{row_h}"/>')
        out.append(f'<text class="label" x="{label_w}" y="{_num(mid + 4)}" text-anchor="end">'
                   f'{escape(_short(r.label))}</text>')
        out.append(f'<rect class="bar bar-received" x="{bar_x}" y="{_num(mid - 8)}" width="{_num(received_w)}" '
                   f'height="16" data-figure="{dimension}_bar" data-{dimension}="{_attr(r.key)}" data-col="received" '
                   f'data-value="{data_value(r.received)}"/>')
        out.append(f'<rect class="bar bar-handled" x="{bar_x}" y="{_num(mid - 8)}" width="{_num(handled_w)}" '
                   f'height="16" data-figure="{dimension}_bar" data-{dimension}="{_attr(r.key)}" data-col="handled" '
                   f'data-value="{data_value(r.handled)}"/>')
        for x, col, value, text in (
            (col_received, "received", r.received, format_count(r.received, lang)),
            (col_handled, "handled_pct", r.handled_pct, format_pct(r.handled_pct, lang)),
            (col_on_time, "on_time_pct", r.on_time_pct, format_pct(r.on_time_pct, lang)),
        ):
            out.append(f'<text class="figure fig-{col}" x="{x}" y="{_num(mid + 4)}" text-anchor="end" '
                       f'data-figure="{dimension}" data-{dimension}="{_attr(r.key)}" data-col="{col}" '
                       f'data-value="{data_value(value)}">{escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return Markup("\n".join(out))


def meter(value: float | None, *, label: str, target: float | None = None) -> Markup:
    """A thin 0-100 % bar under a tile's figure, with a tick at the target share when there is one."""
    width, height = 200, 10
    filled = 0.0 if value is None else max(0.0, min(100.0, float(value))) * width / 100
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="meter" viewBox="0 0 {width} {height}" '
           f'preserveAspectRatio="none" role="img" aria-label="{_attr(label)}">',
           f'<rect class="meter-track" x="0" y="2" width="{width}" height="6" rx="3"/>',
           f'<rect class="meter-fill" x="0" y="2" width="{_num(filled)}" height="6" rx="3"/>']
    if target is not None:
        x = _num(width * target / 100)
        out.append(f'<line class="meter-target" x1="{x}" x2="{x}" y1="0" y2="{height}"/>')
    out.append("</svg>")
    return Markup("".join(out))
