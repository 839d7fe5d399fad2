"""Processing-rate reports: what managers read, by the definitions of DESIGN.md, recomputable from the events.

For the items received (created) on the local days [from, to], grouped by agency, field, area, month or week:

- received: the items; handled: those whose state is resolved, closed or rejected;
- handled on time: handled no later than the deadline in force when they were handled (no deadline: on time);
- open = received - handled; overdue open: open, not waiting for the citizen, past their deadline now;
- working hours to resolve: office time from receipt to handling less the time waiting for the citizen, as the
  upper edge of its bucket (RESOLVE_BUCKET_EDGES); p50 and p90 are nearest-rank percentiles of those buckets;
- reroute rate: received items given to another agency than their last routing had;
- auto-route rate: received items whose first routing was the classifier's, without a person;
- rating: the citizen's latest rating, averaged over the rated items.

Every one of those facts is written on the item by `transition` together with the event that defines it. A
report reads daily rollups (report_rollups) for days whose rows are up to date and the items themselves for
today and for days with events since the last refresh, so it is exact whenever it is asked. `as_of` reads the
events alone, folded up to that moment: the report as it would have read then.
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import (
    FeedbackItem,
    ItemEvent,
    ReportRollupDay,
    ReportRollupState,
    StaffUser,
    report_rollups,
    report_rollups_monthly,
)
from feedback_app.models.feedback import HANDLED_STATUSES, OPEN_STATUSES
from feedback_app.models.reports import BUCKET_COLUMNS, BUCKETS, COUNT_COLUMNS, RESOLVE_BUCKET_EDGES
from feedback_app.models.staff import AGENCY_ROLES
from feedback_app.models.types import local_day, utcnow
from feedback_app.services import access
from feedback_app.services.directory import AreaRef, DirectorySnapshot, directory
from feedback_app.services.errors import Forbidden, Unprocessable

GROUPS = ("agency", "category", "area", "month", "week")
REPORT_ROLES = ("manager", "coordinator", "admin", "agency_admin")
# Events committed late (a slow transaction) are still caught: each refresh looks back this far.
LATE_COMMIT_MARGIN = timedelta(minutes=5)
MAX_DAYS = 3 * 366
EDGE_SECONDS = tuple(edge * 3600 for edge in RESOLVE_BUCKET_EDGES)
NONE_KEY = "none"
NONE_LABELS = {
    "agency": ("Chưa giao cơ quan", "No agency yet"),
    "category": ("Chưa xác định lĩnh vực", "No field yet"),
    "area": ("Chưa xác định địa bàn", "No area"),
}


@dataclass(frozen=True)
class ReportQuery:
    date_from: date
    date_to: date
    group_by: str = "agency"
    agency: str | None = None
    category: str | None = None
    area: str | None = None
    as_of: datetime | None = None


def resolve_bucket(seconds: int) -> int:
    return bisect.bisect_right(EDGE_SECONDS, seconds)


def bucket_hours(index: int) -> float:
    """What a bucket reads as: its upper edge; the last, open-ended one its lower edge."""
    return float(RESOLVE_BUCKET_EDGES[min(index, len(RESOLVE_BUCKET_EDGES) - 1)])


def percentile(hist: list[int], percent: int) -> float | None:
    """Nearest rank, in integers: the smallest bucket holding at least ceil(percent/100 * n) values."""
    n = sum(hist)
    if n == 0:
        return None
    rank = max((percent * n + 99) // 100, 1)
    seen = 0
    for index, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return bucket_hours(index)
    return bucket_hours(len(hist) - 1)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Tally:
    """The additive figures of a group: sums of rollup rows, of live rows and of folded items alike."""

    received: int = 0
    handled: int = 0
    handled_on_time: int = 0
    rerouted: int = 0
    auto_routed: int = 0
    ratings: int = 0
    rating_sum: int = 0
    overdue_open: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add_counts(self, values) -> None:
        """`values`: the COUNT_COLUMNS then the BUCKET_COLUMNS, as a query returns them."""
        for name, value in zip(COUNT_COLUMNS, values):
            setattr(self, name, getattr(self, name) + int(value or 0))
        for index, value in enumerate(values[len(COUNT_COLUMNS):]):
            self.hist[index] += int(value or 0)

    def add_item_class(self, status: str, on_time, rerouted, auto_routed, bucket, items: int, ratings: int,
                       rating_sum: int) -> None:
        """One row of `item_classes`: `items` items alike in what the figures count (see there)."""
        self.received += items
        if status in HANDLED_STATUSES:
            self.handled += items
            if on_time:
                self.handled_on_time += items
            if bucket is not None:
                self.hist[bucket] += items
        if rerouted:
            self.rerouted += items
        if auto_routed:
            self.auto_routed += items
        self.ratings += int(ratings or 0)
        self.rating_sum += int(rating_sum or 0)

    def merge(self, other: "Tally") -> None:
        for name in COUNT_COLUMNS + ("overdue_open",):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for index, value in enumerate(other.hist):
            self.hist[index] += value

    def figures(self) -> dict:
        return {
            "received": self.received,
            "handled": self.handled,
            "handled_pct": _pct(self.handled, self.received),
            "handled_on_time": self.handled_on_time,
            "on_time_pct": _pct(self.handled_on_time, self.handled),
            "open": self.received - self.handled,
            "overdue_open": self.overdue_open,
            "resolve_hours_p50": percentile(self.hist, 50),
            "resolve_hours_p90": percentile(self.hist, 90),
            "reroute_rate": _pct(self.rerouted, self.received),
            "auto_route_rate": _pct(self.auto_routed, self.received),
            "rating_avg": round(self.rating_sum / self.ratings, 2) if self.ratings else None,
            "ratings": self.ratings,
        }


# --- who may read what ---------------------------------------------------------------------------------------


def scoped_query(query: ReportQuery, user: StaffUser | None, snapshot: DirectorySnapshot) -> ReportQuery:
    """Check the role and the filters; an agency admin's report is always their own agency's."""
    user = access.require_staff(user, *REPORT_ROLES)
    if query.group_by not in GROUPS:
        raise Unprocessable(errors={"group_by": [f"one of {', '.join(GROUPS)}"]})
    if query.date_to < query.date_from:
        raise Unprocessable(errors={"to": ["must not be before 'from'"]})
    if (query.date_to - query.date_from).days > MAX_DAYS:
        raise Unprocessable(errors={"to": [f"a report covers at most {MAX_DAYS} days"]})
    if query.agency and _agency_by_code(snapshot, query.agency) is None:
        raise Unprocessable(errors={"agency": [f"unknown agency '{query.agency}'"]})
    if query.category and query.category not in {f.code for f in snapshot.fields_by_id.values()}:
        raise Unprocessable(errors={"category": [f"unknown field '{query.category}'"]})
    if query.area and snapshot.area(query.area) is None:
        raise Unprocessable(errors={"area": [f"unknown area '{query.area}'"]})
    if user.role in AGENCY_ROLES:
        own = snapshot.agencies_by_id.get(user.agency_id)
        if own is None or (query.agency and query.agency != own.code):
            raise Forbidden("other_agency")
        query = ReportQuery(**{**query.__dict__, "agency": own.code})
    return query


def _agency_by_code(snapshot: DirectorySnapshot, code: str):
    return next((a for a in snapshot.agencies_by_id.values() if a.code == code), None)


def _field_by_code(snapshot: DirectorySnapshot, code: str):
    return next((f for f in snapshot.fields_by_id.values() if f.code == code), None)


def _area_ids(snapshot: DirectorySnapshot, code: str) -> list[int]:
    """The area and every area inside it."""
    root = snapshot.area(code)
    return [a.id for a in snapshot.areas.values() if a.path == root.path or a.path.startswith(root.path + "/")]


# --- grouping keys and labels ------------------------------------------------------------------------------


def _display_depth(snapshot: DirectorySnapshot, area_code: str | None) -> int:
    """Areas are shown one level below the filter: the districts of the province when there is none."""
    if area_code:
        return snapshot.area(area_code).depth + 1
    return (snapshot.root.depth + 1) if snapshot.root else 1


def _area_key(area: AreaRef | None, depth: int) -> str:
    if area is None:
        return NONE_KEY
    codes = area.path.split("/")
    return codes[depth] if len(codes) > depth else area.code


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _periods(query: ReportQuery) -> list[str]:
    keyer = month_key if query.group_by == "month" else week_key
    keys, day = [], query.date_from
    while day <= query.date_to:
        key = keyer(day)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += timedelta(days=1)
    return keys


def _label(snapshot: DirectorySnapshot, group_by: str, key: str) -> tuple[str, str]:
    if key == NONE_KEY:
        return NONE_LABELS[group_by]
    if group_by == "month":
        year, month = key.split("-")
        return f"Tháng {int(month)}/{year}", datetime(int(year), int(month), 1).strftime("%B %Y")
    if group_by == "week":
        year, week = key.split("-W")
        return f"Tuần {int(week)}/{year}", f"Week {int(week)}, {year}"
    if group_by == "agency":
        ref = _agency_by_code(snapshot, key)
    elif group_by == "category":
        ref = _field_by_code(snapshot, key)
    else:
        ref = snapshot.area(key)
    return (ref.name_vi, ref.name_en) if ref else (key, key)


class _Keys:
    """Turns the id a query groups by (or a folded item's codes) into the report's row key."""

    def __init__(self, snapshot: DirectorySnapshot, query: ReportQuery):
        self.snapshot, self.group_by = snapshot, query.group_by
        self.depth = _display_depth(snapshot, query.area)

    def column(self, source):
        """The column to GROUP BY: rollups and items share the names, except the day."""
        if self.group_by in ("month", "week"):
            if source is FeedbackItem:
                return FeedbackItem.created_day
            return source.c.day if source is report_rollups else source.c.month
        name = {"agency": "agency_id", "category": "category_id", "area": "area_id"}[self.group_by]
        return getattr(FeedbackItem, name) if source is FeedbackItem else source.c[name]

    def key(self, value) -> str:
        if self.group_by == "month":
            return month_key(value)
        if self.group_by == "week":
            return week_key(value)
        if not value:
            return NONE_KEY
        if self.group_by == "agency":
            ref = self.snapshot.agencies_by_id.get(value)
        elif self.group_by == "category":
            ref = self.snapshot.fields_by_id.get(value)
        else:
            return _area_key(self.snapshot.areas_by_id.get(value), self.depth)
        return ref.code if ref else str(value)


# --- the figures from items and rollups ---------------------------------------------------------------------


def item_figures():
    """The rollup's columns computed from feedback_items, in COUNT_COLUMNS then BUCKET_COLUMNS order."""
    item = FeedbackItem
    handled = item.status.in_(HANDLED_STATUSES)

    def count(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    on_time = sa.and_(handled, sa.or_(item.due_at.is_(None), item.handled_at <= item.due_at))
    columns = [
        sa.func.count(),
        count(handled),
        count(on_time),
        count(item.reroutes > 0),
        count(item.auto_routed.is_(True)),
        sa.func.count(item.rating),
        sa.func.coalesce(sa.func.sum(item.rating), 0),
    ]
    lows = (0,) + EDGE_SECONDS
    for index in range(BUCKETS):
        condition = sa.and_(handled, item.resolve_seconds >= lows[index])
        if index < len(EDGE_SECONDS):
            condition = sa.and_(condition, item.resolve_seconds < EDGE_SECONDS[index])
        columns.append(count(condition))
    return columns


def item_classes():
    """The same figures as `item_figures`, as classes of alike items to group by, then count: status,
    handled by the deadline if handled, rerouted, auto-routed, resolve-time bucket (a CASE that stops at the
    first edge above), then the count and the ratings' count and sum; `Tally.add_item_class` adds a row.

    For today's live rows (every item of the day, tens of thousands under a load) this takes about a third
    of the time of `item_figures`, 36 of whose 39 columns are CASE sums that test the status again on every
    row: most of a day's items are open and fall into a few classes. The rollups keep `item_figures`."""
    item = FeedbackItem
    seconds = item.resolve_seconds
    bucket = sa.case(
        (sa.or_(seconds.is_(None), seconds < 0), sa.null()),
        *[(seconds < edge, index) for index, edge in enumerate(EDGE_SECONDS)],
        else_=len(EDGE_SECONDS),
    )
    keys = [item.status, sa.or_(item.due_at.is_(None), item.handled_at <= item.due_at), item.reroutes > 0,
            item.auto_routed.is_(True), bucket]
    return keys, [sa.func.count(), sa.func.count(item.rating), sa.func.coalesce(sa.func.sum(item.rating), 0)]


def _filters(source, query: ReportQuery, snapshot: DirectorySnapshot) -> list:
    rollup = source is not FeedbackItem
    col = (lambda name: source.c[name]) if rollup else (lambda name: getattr(FeedbackItem, name))
    conditions = []
    if query.agency:
        conditions.append(col("agency_id") == _agency_by_code(snapshot, query.agency).id)
    if query.category:
        conditions.append(col("category_id") == _field_by_code(snapshot, query.category).id)
    if query.area:
        conditions.append(col("area_id").in_(_area_ids(snapshot, query.area)))
    return conditions


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _dirty_days(query: ReportQuery, today: date) -> set[date] | None:
    """Days before today in range with events since the last refresh (less the margin); None: rollups never
    refreshed. Today is read from the items whatever happened, so it is not asked about: under load nearly
    every recent event is today's, and joining them all to their items cost 60 ms a report at 200
    submissions/s (94 ms against 14 ms in EXPLAIN ANALYZE on the load's data)."""
    state = db.session.get(ReportRollupState, 1)
    if state is None or state.refreshed_through is None:
        return None
    last = min(query.date_to, today - timedelta(days=1))
    if last < query.date_from:
        return set()
    since = state.refreshed_through - LATE_COMMIT_MARGIN
    return set(db.session.scalars(
        sa.select(FeedbackItem.created_day).distinct()
        .join(ItemEvent, ItemEvent.item_id == FeedbackItem.id)
        .where(ItemEvent.created_at >= since,
               FeedbackItem.created_day >= query.date_from, FeedbackItem.created_day <= last)
    ))


def _rollup_days(query: ReportQuery, today: date) -> set[date]:
    """Closed days whose rollup rows are built and untouched since: the report reads those rows."""
    dirty = _dirty_days(query, today)
    if dirty is None:
        return set()
    last = min(query.date_to, today - timedelta(days=1))
    built = db.session.scalars(
        sa.select(ReportRollupDay.day).where(ReportRollupDay.day >= query.date_from, ReportRollupDay.day <= last)
    )
    return set(built) - dirty


def _whole_months(query: ReportQuery, rollup_days: set[date]) -> list[tuple[date, date]]:
    months, day = [], query.date_from
    while day <= query.date_to:
        first, last = month_bounds(day)
        if first >= query.date_from and last <= query.date_to and all(
                d in rollup_days for d in days_between(first, last)):
            months.append((first, last))
        day = last + timedelta(days=1)
    return months


def _add_rollup_rows(tallies, keys, table, period, periods: list[date], query, snapshot) -> None:
    """Sum the rollup rows of the given days (or months) by the report's key."""
    first, last = periods[0], periods[-1]
    conditions = [period >= first, period <= last, *_filters(table, query, snapshot)]
    wanted = set(periods)
    skipped = [p for p in _periods_between(table, first, last) if p not in wanted]
    if len(skipped) > len(periods):  # a few days at both ends of a year of whole months: name them
        conditions = [period.in_(sorted(wanted)), *conditions[2:]]
    elif skipped:
        conditions.append(period.not_in(skipped))
    group = keys.column(table)
    sums = [sa.func.sum(table.c[name]) for name in COUNT_COLUMNS + BUCKET_COLUMNS]
    for row in db.session.execute(sa.select(group, *sums).where(*conditions).group_by(group)):
        tallies[keys.key(row[0])].add_counts(row[1:])


def _periods_between(table, first: date, last: date) -> list[date]:
    if table is report_rollups:
        return days_between(first, last)
    months, month = [], first
    while month <= last:
        months.append(month)
        month = month_bounds(month)[1] + timedelta(days=1)
    return months


def _tallies(query: ReportQuery, snapshot: DirectorySnapshot, now: datetime) -> dict[str, Tally]:
    keys = _Keys(snapshot, query)
    today = local_day(now)
    rollup_days = _rollup_days(query, today)
    live_days = [d for d in days_between(query.date_from, min(query.date_to, today)) if d not in rollup_days]
    tallies: dict[str, Tally] = defaultdict(Tally)

    # Whole months whose every day is in the rollups read the monthly sums; other such days the daily rows.
    months = [] if query.group_by == "week" else _whole_months(query, rollup_days)
    in_months = {d for first, last in months for d in days_between(first, last)}
    daily_days = rollup_days - in_months
    if months:
        _add_rollup_rows(tallies, keys, report_rollups_monthly, report_rollups_monthly.c.month,
                         [first for first, _ in months], query, snapshot)
    if daily_days:
        _add_rollup_rows(tallies, keys, report_rollups, report_rollups.c.day, sorted(daily_days), query, snapshot)

    if live_days:
        group = keys.column(FeedbackItem)
        classes, counts = item_classes()
        statement = (sa.select(group, *classes, *counts)
                     .where(FeedbackItem.created_day.in_(live_days), *_filters(FeedbackItem, query, snapshot))
                     .group_by(group, *classes))
        for row in db.session.execute(statement):
            tallies[keys.key(row[0])].add_item_class(*row[1:])

    # Overdue depends on the clock, not only on events: always counted from the open items themselves.
    group = keys.column(FeedbackItem)
    overdue = (
        sa.select(group, sa.func.count())
        .where(FeedbackItem.created_day >= query.date_from, FeedbackItem.created_day <= query.date_to,
               FeedbackItem.status.in_(OPEN_STATUSES), FeedbackItem.paused_at.is_(None),
               FeedbackItem.due_at < now, *_filters(FeedbackItem, query, snapshot))
        .group_by(group)
    )
    for value, count in db.session.execute(overdue):
        tallies[keys.key(value)].overdue_open += count
    return tallies


# --- as_of: the events alone, folded up to a moment -------------------------------------------------------


@dataclass
class ItemFacts:
    created_day: date
    status: str | None = None
    agency: str | None = None
    category: str | None = None
    area: str | None = None
    due_at: datetime | None = None
    handled_at: datetime | None = None
    working_seconds: int | None = None
    routed_agency: str | None = None
    reroutes: int = 0
    auto_routed: bool | None = None
    rating: int | None = None

    def apply(self, kind: str, to_status: str | None, actor_kind: str, data: dict, at: datetime) -> None:
        data = data or {}
        if kind == "received":
            self.status, self.area = "received", data.get("area")
        elif kind == "rating":
            self.rating = data.get("rating")
        elif kind == "status" and to_status:
            previous, self.status = self.status, to_status
            if to_status == "routed":
                agency = data.get("agency")
                if self.routed_agency is not None and agency != self.routed_agency:
                    self.reroutes += 1
                self.routed_agency = self.agency = agency
                self.category = data.get("category") or self.category
                if self.auto_routed is None:
                    self.auto_routed = actor_kind == "classifier"
            elif to_status == "needs_triage":
                self.agency = None
                if "category" in data:
                    self.category = data["category"]
            if "due_at" in data:
                self.due_at = datetime.fromisoformat(data["due_at"]) if data["due_at"] else None
            if to_status in HANDLED_STATUSES and previous not in HANDLED_STATUSES:
                self.handled_at, self.working_seconds = at, data.get("working_seconds")
            elif to_status not in HANDLED_STATUSES:
                self.handled_at = self.working_seconds = None

    def tally(self, at: datetime) -> Tally:
        tally = Tally(received=1)
        if self.status in HANDLED_STATUSES:
            tally.handled = 1
            on_time = self.due_at is None or (self.handled_at is not None and self.handled_at <= self.due_at)
            tally.handled_on_time = int(on_time)
            if self.working_seconds is not None:
                tally.hist[resolve_bucket(self.working_seconds)] += 1
        elif self.status != "waiting_citizen" and self.due_at is not None and self.due_at < at:
            tally.overdue_open = 1
        tally.rerouted = int(self.reroutes > 0)
        tally.auto_routed = int(bool(self.auto_routed))
        if self.rating is not None:
            tally.ratings, tally.rating_sum = 1, int(self.rating)
        return tally


def fold_items(query: ReportQuery, as_of: datetime) -> dict:
    """Every item received in the period by `as_of`, as its events up to `as_of` describe it."""
    statement = (
        sa.select(ItemEvent.item_id, FeedbackItem.created_day, ItemEvent.kind, ItemEvent.to_status,
                  ItemEvent.actor_kind, ItemEvent.data, ItemEvent.created_at)
        .join(FeedbackItem, FeedbackItem.id == ItemEvent.item_id)
        .where(FeedbackItem.created_day >= query.date_from, FeedbackItem.created_day <= query.date_to,
               FeedbackItem.created_at <= as_of, ItemEvent.created_at <= as_of)
        .order_by(ItemEvent.item_id, ItemEvent.id)
    )
    items: dict = {}
    for item_id, day, kind, to_status, actor_kind, data, at in db.session.execute(statement):
        facts = items.get(item_id)
        if facts is None:
            facts = items[item_id] = ItemFacts(created_day=day)
        facts.apply(kind, to_status, actor_kind, data, at)
    return items


def _tallies_as_of(query: ReportQuery, snapshot: DirectorySnapshot, as_of: datetime) -> dict[str, Tally]:
    depth = _display_depth(snapshot, query.area)
    area_codes = {snapshot.areas_by_id[i].code for i in _area_ids(snapshot, query.area)} if query.area else None
    tallies: dict[str, Tally] = defaultdict(Tally)
    for facts in fold_items(query, as_of).values():
        if query.agency and facts.agency != query.agency:
            continue
        if query.category and facts.category != query.category:
            continue
        if area_codes is not None and facts.area not in area_codes:
            continue
        if query.group_by == "month":
            key = month_key(facts.created_day)
        elif query.group_by == "week":
            key = week_key(facts.created_day)
        elif query.group_by == "area":
            key = _area_key(snapshot.area(facts.area) if facts.area else None, depth)
        else:
            key = getattr(facts, query.group_by) or NONE_KEY
        tallies[key].merge(facts.tally(as_of))
    return tallies


# --- the report ----------------------------------------------------------------------------------------------


def processing_rate(query: ReportQuery, user: StaffUser | None, *, now: datetime | None = None) -> dict:
    snapshot = directory()
    query = scoped_query(query, user, snapshot)
    now = now or utcnow()
    as_of = query.as_of if query.as_of is not None and query.as_of < now else None
    tallies = _tallies_as_of(query, snapshot, as_of) if as_of else _tallies(query, snapshot, now)

    if query.group_by in ("month", "week"):
        keys = _periods(query)
    else:
        keys = sorted(tallies, key=lambda k: (k == NONE_KEY, -tallies[k].received, k))
    totals = Tally()
    rows = []
    for key in keys:
        tally = tallies.get(key) or Tally()
        totals.merge(tally)
        label_vi, label_en = _label(snapshot, query.group_by, key)
        rows.append({"key": key, "label_vi": label_vi, "label_en": label_en, **tally.figures()})
    return {
        "from": query.date_from.isoformat(),
        "to": query.date_to.isoformat(),
        "group_by": query.group_by,
        "filters": {"agency": query.agency, "category": query.category, "area": query.area},
        "as_of": as_of.isoformat() if as_of else None,
        "generated_at": now.isoformat(),
        "rows": rows,
        "totals": {"key": "total", "label_vi": "Tổng cộng", "label_en": "Total", **totals.figures()},
    }


# --- the overdue list ----------------------------------------------------------------------------------------

MAX_PAGE_SIZE = 500


def overdue_items(user: StaffUser | None, *, agency: str | None = None, category: str | None = None,
                  area: str | None = None, page: int = 1, page_size: int = 50, now: datetime | None = None) -> dict:
    """Open items past their deadline (not waiting for the citizen), longest overdue first."""
    from feedback_app.services.clocks import calendar

    snapshot = directory()
    today = local_day(now or utcnow())
    query = scoped_query(ReportQuery(today, today, agency=agency, category=category, area=area), user, snapshot)
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise Unprocessable(errors={"page_size": [f"1 to {MAX_PAGE_SIZE}; page from 1"]})
    now = now or utcnow()
    conditions = [FeedbackItem.status.in_(OPEN_STATUSES), FeedbackItem.paused_at.is_(None), FeedbackItem.due_at < now,
                  *_filters(FeedbackItem, query, snapshot)]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem).where(*conditions))
    rows = db.session.execute(
        sa.select(FeedbackItem.id, FeedbackItem.tracking_code, FeedbackItem.status, FeedbackItem.agency_id,
                  FeedbackItem.category_id, FeedbackItem.area_id, FeedbackItem.created_at, FeedbackItem.due_at)
        .where(*conditions)
        .order_by(FeedbackItem.due_at, FeedbackItem.created_at, FeedbackItem.id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    cal = calendar()
    items = []
    for row in rows:
        agency_ref = snapshot.agencies_by_id.get(row.agency_id)
        field_ref = snapshot.fields_by_id.get(row.category_id)
        area_ref = snapshot.areas_by_id.get(row.area_id)
        late = cal.working_time_between(row.due_at, now)
        items.append({
            "id": str(row.id),
            "tracking_code": row.tracking_code,
            "status": row.status,
            "agency": agency_ref.public() if agency_ref else None,
            "category": field_ref.public() if field_ref else None,
            "area": area_ref.public() if area_ref else None,
            "created_at": row.created_at,
            "due_at": row.due_at,
            "working_hours_late": round(late.total_seconds() / 3600, 1),
        })
    return {"items": items, "total": total, "page": page, "page_size": page_size, "generated_at": now}
