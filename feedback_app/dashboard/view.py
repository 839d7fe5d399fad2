"""How the dashboard's figures are drawn: the page's heading, its SVG charts and meters, in the reader's language."""
from __future__ import annotations

from markupsafe import Markup

from feedback_app.dashboard import charts
from feedback_app.dashboard.figures import HANDLED_TARGET_PCT, Filters
from feedback_app.dashboard.text import month_label, t
from feedback_app.i18n import translate
from feedback_app.models import StaffUser
from feedback_app.models.staff import AGENCY_ROLES
from feedback_app.services.directory import directory

# The agency table's columns and how each is written.
RANKING_COLUMNS = (
    ("received", "count"), ("handled", "count"), ("handled_pct", "pct"), ("on_time_pct", "pct"),
    ("open", "count"), ("overdue_open", "count"), ("resolve_hours_p50", "plain"), ("rating_avg", "plain"),
)


def heading(user: StaffUser, filters: Filters, lang: str) -> str:
    """Whose figures these are: the agency of an agency admin, the area filtered on, else the whole province."""
    names = []
    if user.role in AGENCY_ROLES and user.agency is not None:
        names.append(user.agency.name_en if lang == "en" else user.agency.name_vi)
    area = directory().area(filters.area) if filters.area else None
    if area is not None:
        names.append(area.name_en if lang == "en" else area.name_vi)
    return " · ".join(names) or t("scope_all")


def _legend() -> dict[str, str]:
    keys = ("received", "handled", "on_time_pct")
    columns = ("received", "handled_pct", "on_time_pct")
    return {**{k: t(f"legend_{k}") for k in keys}, **{f"col_{c}": t(f"col_{c}") for c in columns}, "empty": t("empty")}


def _breakdown(rows: list[dict], label: str) -> list[charts.BreakdownRow]:
    return [charts.BreakdownRow(key=r["key"], label=r[label], received=r["received"], handled=r["handled"],
                                handled_pct=r["handled_pct"], on_time_pct=r["on_time_pct"]) for r in rows]


def drawings(page: dict, lang: str) -> dict[str, Markup]:
    """The trend chart, the two breakdowns and the tiles' meters."""
    legend, label = _legend(), ("label_en" if lang == "en" else "label_vi")
    empty = {"received": 0, "handled": 0, "on_time_pct": None}
    trend = [charts.TrendPoint(key=key, label=month_label(key, lang), received=row["received"],
                               handled=row["handled"], on_time_pct=row["on_time_pct"])
             for key in page["month_keys"] for row in [page["months"].get(key, empty)]]
    return {
        "trend": charts.trend_chart(trend, chart_id="trend-chart", title=t("trend_title"), desc=t("trend_desc"),
                                    lang=lang, legend=legend),
        "category": charts.breakdown_chart(_breakdown(page["by_category"], label), chart_id="category-chart",
                                           dimension="category", title=t("by_category_title"),
                                           desc=t("breakdown_desc"), lang=lang, legend=legend),
        "area": charts.breakdown_chart(_breakdown(page["by_area"], label), chart_id="area-chart",
                                       dimension="area", title=t("by_area_title"), desc=t("breakdown_desc"),
                                       lang=lang, legend=legend),
        "handled_pct": charts.meter(page["totals"]["handled_pct"], label=t("tile_handled_pct"),
                                    target=HANDLED_TARGET_PCT),
        "on_time_pct": charts.meter(page["totals"]["on_time_pct"], label=t("tile_on_time_pct")),
    }


def error_text(error, lang: str) -> str:
    """A report the service refused: its message, and what it said of each argument."""
    details = "; ".join(f"{name}: {', '.join(map(str, problems))}" for name, problems in (error.errors or {}).items())
    message = translate(error.message_key, lang, **error.params)
    return t("report_error", message=f"{message} {details}".strip())
