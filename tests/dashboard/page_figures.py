"""Reading the figures a dashboard page shows and checking each against the reports API's answer."""
from __future__ import annotations

import html.parser
import re
from datetime import date, timedelta

MISSING = "—"


class FigureParser(html.parser.HTMLParser):
    """Every element with a data-figure attribute: its data-* attributes and its text (as a browser's textContent)."""

    VOID = {"input", "meta", "link", "br", "img", "hr", "source", "area", "base", "col", "embed", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.figures: list[dict] = []
        self._open: list[tuple[str, dict | None]] = []

    def handle_starttag(self, tag, attrs):
        data = {k[5:]: v or "" for k, v in attrs if k.startswith("data-")}
        figure = dict(data, text="") if "figure" in data else None
        if figure is not None:
            self.figures.append(figure)
        if tag not in self.VOID:
            self._open.append((tag, figure))

    def handle_startendtag(self, tag, attrs):
        data = {k[5:]: v or "" for k, v in attrs if k.startswith("data-")}
        if "figure" in data:
            self.figures.append(dict(data, text=""))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, text):
        for _, figure in self._open:
            if figure is not None:
                figure["text"] += text


def figures_in_html(page: str) -> list[dict]:
    parser = FigureParser()
    parser.feed(page)
    for figure in parser.figures:
        figure["text"] = " ".join(figure["text"].split())
    return parser.figures


# What a browser gives for the same elements (dataset keys are camel-cased; ours have no dashes).
FIGURES_SCRIPT = """
return Array.from(document.querySelectorAll('[data-figure]')).map(function (e) {
  var out = {text: e.textContent.replace(/\\s+/g, ' ').trim()};
  for (var i = 0; i < e.attributes.length; i++) {
    var a = e.attributes[i];
    if (a.name.indexOf('data-') === 0) { out[a.name.slice(5)] = a.value; }
  }
  return out;
});
"""


def read_number(text: str, lang: str) -> float | None:
    """A figure as written on the page, read back: '1.234' and '46,4%' in Vietnamese, '1,234' and '46.4%' in English."""
    text = text.strip().rstrip("%").strip()
    if text == MISSING:
        return None
    thousands, decimal = (".", ",") if lang == "vi" else (",", ".")
    assert re.fullmatch(r"[0-9" + re.escape(thousands + decimal) + r"]+", text), f"not a {lang} number: {text!r}"
    return float(text.replace(thousands, "").replace(decimal, "."))


def one(figures: list[dict], **match) -> dict:
    found = [f for f in figures if all(f.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{match}: {len(found)} elements"
    return found[0]


def value_of(figure: dict) -> float | None:
    return None if figure["value"] == "" else float(figure["value"])


def assert_figure(figure: dict, expected, lang: str, *, shown: bool = True) -> None:
    """The element's machine value and, when it shows text, the text read back, both equal the API's figure."""
    where = {k: v for k, v in figure.items() if k != "text"}
    assert value_of(figure) == (None if expected is None else float(expected)), (where, expected)
    if shown:
        assert read_number(figure["text"], lang) == (None if expected is None else float(expected)), (figure, expected)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def expected_reports(get_json, start: date, end: date, area: str | None) -> dict:
    """The API's answers for what the page shows: the period by agency, field and area, the month before
    (or the as many months before), twelve months by month, and the overdue list."""
    area_arg = f"&area={area}" if area else ""

    def rate(first: date, last: date, group_by: str) -> dict:
        return get_json(f"/api/v1/reports/processing-rate?from={first.isoformat()}&to={last.isoformat()}"
                        f"&group_by={group_by}{area_arg}")

    assert start.day == 1, "the presets start on the 1st"
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return {
        "agency": rate(start, end, "agency"),
        "category": rate(start, end, "category"),
        "area": rate(start, end, "area"),
        "previous": rate(add_months(start, -months), start - timedelta(days=1), "month"),
        "month": rate(add_months(end.replace(day=1), -11), end, "month"),
        "overdue": get_json(f"/api/v1/reports/overdue?page_size=1{area_arg}"),
    }


def assert_page_matches_api(figures: list[dict], api: dict, lang: str) -> None:
    """Every figure the page shows equals the API's, and the page shows every row the API has."""
    totals = api["agency"]["totals"]
    for key in ("received", "handled", "handled_on_time", "open", "handled_pct", "on_time_pct"):
        assert_figure(one(figures, figure=key), totals[key], lang)
    previous = api["previous"]["totals"]
    received = one(figures, figure="received_delta")
    assert (float(received["previous"]), value_of(received)) == (previous["received"],
                                                                 totals["received"] - previous["received"])
    for key in ("handled_pct", "on_time_pct"):
        trend = one(figures, figure=f"{key}_delta")
        assert (None if trend["previous"] == "" else float(trend["previous"])) == previous[key], trend
        expected = None if totals[key] is None or previous[key] is None else round(totals[key] - previous[key], 1)
        assert value_of(trend) == expected, (trend, totals[key], previous[key])
    assert_figure(one(figures, figure="overdue_now"), api["overdue"]["total"], lang)

    columns = ("received", "handled", "handled_pct", "on_time_pct", "open", "overdue_open",
               "resolve_hours_p50", "rating_avg")
    rows = {r["key"]: r for r in api["agency"]["rows"]}
    assert {f["agency"] for f in figures if f["figure"] == "agency"} == set(rows)
    for key, row in rows.items():
        for col in columns:
            assert_figure(one(figures, figure="agency", agency=key, col=col), row[col], lang)
    for col in columns:
        assert_figure(one(figures, figure="totals", col=col), totals[col], lang)

    months = {r["key"]: r for r in api["month"]["rows"]}
    assert {f["month"] for f in figures if f["figure"] == "trend"} == set(months)
    for key, row in months.items():
        for col in ("received", "handled"):
            assert_figure(one(figures, figure="trend", month=key, col=col), row[col], lang, shown=False)
        dots = [f for f in figures if f["figure"] == "trend" and f.get("month") == key and f["col"] == "on_time_pct"]
        assert [value_of(d) for d in dots] == ([] if row["on_time_pct"] is None else [row["on_time_pct"]])

    for dimension in ("category", "area"):
        rows = {r["key"]: r for r in api[dimension]["rows"]}
        assert {f[dimension] for f in figures if f["figure"] == dimension} == set(rows)
        for key, row in rows.items():
            for col in ("received", "handled"):
                assert_figure(one(figures, figure=f"{dimension}_bar", col=col, **{dimension: key}), row[col], lang,
                              shown=False)
            for col in ("received", "handled_pct", "on_time_pct"):
                assert_figure(one(figures, figure=dimension, col=col, **{dimension: key}), row[col], lang)
