"""The dashboard's SVG charts and number formats: well-formed XML, escaped labels, figures where they belong."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from feedback_app.dashboard.charts import BreakdownRow, TrendPoint, breakdown_chart, meter, nice_scale, trend_chart
from feedback_app.dashboard.numbers import format_count, format_pct, format_plain, format_points

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Phường <script>alert("x")</script> & "Đông" \'Ngàn\''
LEGEND = {"received": "Tiếp nhận", "handled": "Đã xử lý", "on_time_pct": "Tỷ lệ đúng hạn",
          "col_received": "Tiếp nhận", "col_handled_pct": "% đã xử lý", "col_on_time_pct": "% đúng hạn",
          "empty": "Không có phản ánh trong kỳ."}


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # raises on anything that is not well-formed XML


def test_trend_chart_is_well_formed_accessible_svg_with_every_month():
    points = [TrendPoint("2026-01", "T1/26", 40, 30, 90.0), TrendPoint("2026-02", "T2/26", 0, 0, None),
              TrendPoint("2026-03", "T3/26", 120, 100, 75.5), TrendPoint("2026-04", "T4/26", 10, 0, None),
              TrendPoint("2026-05", HOSTILE, 5, 5, 100.0)]
    svg = parse(trend_chart(points, chart_id="trend-chart", title="Diễn biến <12> tháng", desc="Cột & đường",
                            lang="vi", legend=LEGEND))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text == "Diễn biến <12> tháng"
    assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text == "Cột & đường"

    bars = [e for e in svg.iter(f"{SVG}rect") if e.get("data-figure") == "trend"]
    assert [(b.get("data-month"), b.get("data-col"), b.get("data-value")) for b in bars] == [
        (p.key, col, str(getattr(p, col))) for p in points for col in ("received", "handled")]
    heights = {(b.get("data-month"), b.get("data-col")): float(b.get("height")) for b in bars}
    assert heights[("2026-02", "received")] == 0
    # One scale for every bar: 120 is three times 40.
    assert heights[("2026-03", "received")] == pytest.approx(3 * heights[("2026-01", "received")], abs=0.02)
    assert all(b.find(f"{SVG}title").text for b in bars)

    dots = [e for e in svg.iter(f"{SVG}circle") if e.get("data-col") == "on_time_pct"]
    assert [(d.get("data-month"), d.get("data-value")) for d in dots] == [
        ("2026-01", "90.0"), ("2026-03", "75.5"), ("2026-05", "100.0")]
    # No percentage where nothing was handled: the line breaks there instead of dropping to zero.
    assert [len(p.get("points").split()) for p in svg.iter(f"{SVG}polyline")] == []
    assert any(t.text == HOSTILE for t in svg.iter(f"{SVG}text"))


def test_trend_line_joins_consecutive_months():
    points = [TrendPoint(f"2026-0{m}", f"T{m}", 10, 8, 50.0 + m) for m in range(1, 5)]
    svg = parse(trend_chart(points, chart_id="t", title="t", desc="d", lang="en", legend=LEGEND))
    assert [len(p.get("points").split()) for p in svg.iter(f"{SVG}polyline")] == [4]


def test_labels_are_escaped_never_markup():
    raw = str(breakdown_chart([BreakdownRow("x&y", HOSTILE, 3, 1, 33.3, None)], chart_id="c", dimension="area",
                              title=HOSTILE, desc=HOSTILE, lang="vi", legend=LEGEND))
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    svg = parse(raw)
    assert svg.find(f"{SVG}title").text == HOSTILE
    row = next(g for g in svg.iter(f"{SVG}g") if g.get("data-area") is not None)
    assert row.get("data-area") == "x&y" and row.find(f"{SVG}title").text.startswith(HOSTILE)


def test_breakdown_rows_carry_their_figures_and_long_names_are_cut_not_lost():
    long_name = "Ủy ban nhân dân thị xã Thuận Thành, tỉnh Bắc Ninh"
    rows = [BreakdownRow("traffic", "Giao thông", 1234, 1000, 81.0, 95.5),
            BreakdownRow("none", long_name, 0, 0, None, None)]
    svg = parse(breakdown_chart(rows, chart_id="category-chart", dimension="category", title="Theo lĩnh vực",
                                desc="d", lang="vi", legend=LEGEND))
    texts = {(t.get("data-category"), t.get("data-col")): t for t in svg.iter(f"{SVG}text") if t.get("data-col")}
    assert texts[("traffic", "received")].text == "1.234"
    assert texts[("traffic", "handled_pct")].text == "81,0%" and texts[("traffic", "handled_pct")].get("data-value") == "81.0"
    assert texts[("traffic", "on_time_pct")].text == "95,5%"
    assert texts[("none", "handled_pct")].text == "—" and texts[("none", "handled_pct")].get("data-value") == ""
    bars = {(b.get("data-category"), b.get("data-col")): float(b.get("width"))
            for b in svg.iter(f"{SVG}rect") if b.get("data-figure") == "category_bar"}
    assert bars[("traffic", "handled")] == pytest.approx(bars[("traffic", "received")] * 1000 / 1234, abs=0.02)
    assert bars[("none", "received")] == 0
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels[0] == "Giao thông" and labels[1].endswith("…") and long_name.startswith(labels[1][:-1])
    titles = [g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g") if g.get("data-category")]
    assert titles[1].startswith(long_name)


def test_an_empty_breakdown_says_so():
    svg = parse(breakdown_chart([], chart_id="area-chart", dimension="area", title="Theo địa bàn", desc="d",
                                lang="en", legend=LEGEND))
    assert any(t.text == LEGEND["empty"] for t in svg.iter(f"{SVG}text"))


@pytest.mark.parametrize("maximum, step, top", [(0, 1, 1), (3, 1, 3), (12, 5, 15), (97, 50, 100), (4151, 2000, 6000)])
def test_axis_steps_are_round(maximum, step, top):
    assert nice_scale(maximum) == (step, top)


def test_meter_is_clamped_and_marks_the_target():
    svg = parse(meter(130.0, label="<b>", target=95.0))
    fill = next(r for r in svg.iter(f"{SVG}rect") if r.get("class") == "meter-fill")
    assert fill.get("width") == "200" and svg.get("aria-label") == "<b>"
    assert svg.find(f"{SVG}line").get("x1") == "190"
    assert next(r for r in parse(meter(None, label="x")).iter(f"{SVG}rect") if r.get("class") == "meter-fill").get("width") == "0"


def test_numbers_the_vietnamese_and_the_english_way():
    assert (format_count(1234567, "vi"), format_count(1234567, "en")) == ("1.234.567", "1,234,567")
    assert (format_pct(46.4, "vi"), format_pct(46.4, "en"), format_pct(None, "vi")) == ("46,4%", "46.4%", "—")
    assert (format_pct(100.0, "vi"), format_pct(1234.5, "vi")) == ("100,0%", "1.234,5%")
    assert (format_plain(4.25, "vi"), format_plain(4.0, "en"), format_plain(12.5, "en")) == ("4,25", "4", "12.5")
    assert (format_points(2.3, "vi"), format_points(-1.0, "en"), format_points(0.0, "en")) == ("+2,3", "−1.0", "±0.0")
