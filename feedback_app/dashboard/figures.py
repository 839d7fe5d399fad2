"""What the dashboard shows: the period and area asked for, and the reports service's figures for them."""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from feedback_app.dashboard.text import MONTHS_EN
from feedback_app.models import StaffUser
from feedback_app.models.staff import AGENCY_ROLES
from feedback_app.models.types import utcnow
from feedback_app.services.directory import directory
from feedback_app.services.reports import ReportQuery, overdue_items, processing_rate

PRESETS = ("this_month", "last_3_months", "last_12_months")
PRESET_MONTHS = {"this_month": 1, "last_3_months": 3, "last_12_months": 12}
TREND_MONTHS = 12
# The province's published headline: "more than 95% of submissions handled"; the handled tile marks it.
HANDLED_TARGET_PCT = 95.0
# Dates a report can be about (the comparison period and the trend reach a year further back).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def local_today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), kept inside the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_keys(start: date, end: date) -> list[str]:
    keys, cursor = [], start.replace(day=1)
    while cursor <= end:
        keys.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = add_months(cursor, 1)
    return keys


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    preset: str | None = None

    @property
    def whole_months(self) -> int | None:
        """How many calendar months the period spans when it starts on the 1st (month to date counts)."""
        if self.start.day != 1:
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def previous(self) -> Period:
        """The period just before, to compare with: the same number of whole months, else of days."""
        months = self.whole_months
        if months:
            start = add_months(self.start, -months)
            return Period(start, self.start - timedelta(days=1))
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1))

    def trend(self) -> Period:
        """The twelve months that end with this period's last month."""
        return Period(add_months(self.end.replace(day=1), -(TREND_MONTHS - 1)), self.end)


def preset_period(name: str, today: date) -> Period:
    return Period(add_months(today.replace(day=1), -(PRESET_MONTHS[name] - 1)), today, name)


@dataclass
class Filters:
    period: Period
    area: str | None = None
    problems: list[tuple[str, dict]] = field(default_factory=list)  # (text key, params) to show the user

    def preset_args(self, preset: str) -> dict:
        return {"preset": preset, "area": self.area} if self.area else {"preset": preset}


def _parse_date(value: str | None, problems: list) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day <= LATEST:
        problems.append(("bad_date", {"value": value[:20]}))
        return None
    return day


def parse_filters(args) -> Filters:
    """Read ?preset= or ?from=&to=, and ?area=; what is not valid is reported and replaced by the default."""
    today = local_today()
    problems: list[tuple[str, dict]] = []
    preset = args.get("preset")
    start, end = _parse_date(args.get("from"), problems), _parse_date(args.get("to"), problems)
    if preset in PRESETS:
        period = preset_period(preset, today)
    elif start or end:
        end = end or max(today, start)
        start = start or end.replace(day=1)
        if start > end:
            problems.append(("bad_range", {}))
            period = preset_period("this_month", today)
        else:
            period = Period(start, end)
    else:
        period = preset_period("this_month", today)
    area = (args.get("area") or "").strip() or None
    if area and directory().area(area) is None:
        problems.append(("bad_area", {"value": area[:40]}))
        area = None
    return Filters(period=period, area=area, problems=problems)


def _pct_delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 1)


def _ranking_key(row: dict):
    """Handled share first, then on time, then volume; rows with nothing to rank last."""
    return (row["handled_pct"] is None, -(row["handled_pct"] or 0), row["on_time_pct"] is None,
            -(row["on_time_pct"] or 0), -row["received"], row["label_vi"])


def scope_agency(user: StaffUser) -> str | None:
    """An agency's own staff read their agency only (the service enforces it too)."""
    return user.agency.code if user.role in AGENCY_ROLES and user.agency is not None else None


def dashboard_figures(user: StaffUser, filters: Filters) -> dict:
    """Every figure on the page, each from the reports service (the same numbers as the API), at one instant."""
    period, agency, area, now = filters.period, scope_agency(user), filters.area, utcnow()

    def report(p: Period, group_by: str) -> dict:
        return processing_rate(ReportQuery(date_from=p.start, date_to=p.end, group_by=group_by,
                                           agency=agency, area=area), user, now=now)

    by_agency = report(period, "agency")
    previous = report(period.previous(), "month")
    trend_period = period.trend()
    by_month = report(trend_period, "month")
    by_category = report(period, "category")
    by_area = report(period, "area")
    overdue = overdue_items(user, agency=agency, area=area, page=1, page_size=1, now=now)
    totals, before = by_agency["totals"], previous["totals"]
    return {
        "totals": totals,
        "previous": before,
        "delta": {
            "received": totals["received"] - before["received"],
            "handled_pct": _pct_delta(totals["handled_pct"], before["handled_pct"]),
            "on_time_pct": _pct_delta(totals["on_time_pct"], before["on_time_pct"]),
        },
        "overdue_now": overdue["total"],
        "ranking": sorted((r for r in by_agency["rows"] if r["key"] != "none"), key=_ranking_key),
        "unassigned": [r for r in by_agency["rows"] if r["key"] == "none"],
        "months": {r["key"]: r for r in by_month["rows"]},
        "month_keys": month_keys(trend_period.start, trend_period.end),
        "by_category": sorted(by_category["rows"], key=lambda r: (r["key"] == "none", -r["received"], r["label_vi"])),
        "by_area": sorted(by_area["rows"], key=lambda r: (r["key"] == "none", -r["received"], r["label_vi"])),
        "generated_at": by_agency.get("generated_at"),
    }


def area_choices(lang: str) -> list[tuple[str, str]]:
    """Every area of the directory in tree order, indented by depth, for the area filter."""
    areas = sorted(directory().areas.values(), key=lambda a: (a.path, a.code))
    return [(a.code, "\u00a0\u00a0" * a.depth + (a.name_en if lang == "en" else a.name_vi)) for a in areas]


def display_date(day: date, lang: str) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}" if lang == "en" else day.strftime("%d/%m/%Y")


def local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        instant = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return instant.astimezone(zone).strftime("%H:%M %d/%m/%Y") if instant.tzinfo else iso
