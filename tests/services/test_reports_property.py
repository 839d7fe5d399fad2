"""Property: for random histories, every figure of the report equals a brute-force recomputation from the events.

Histories are played in time order through the real `transition` service (clocks, report facts, events),
with a rollup refresh at a random moment among them, so that a report mixes rollup rows, dirty days and
today's live rows. The brute force below reads only the event rows and the working calendar.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, ItemEvent, StaffUser
from feedback_app.models.types import local_day
from feedback_app.services.clocks import calendar
from feedback_app.services.directory import directory
from feedback_app.services.report_rollups import refresh_rollups
from feedback_app.services.reports import ReportQuery, processing_rate, resolve_bucket, percentile
from feedback_app.services.workflow import Actor, record_event, transition

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # Monday 08:00 in Hanoi
HANDLED = ("resolved", "closed", "rejected")
OPEN = ("received", "routed", "needs_triage", "in_progress", "waiting_citizen", "reopened")
STAFF = Actor("staff", "1")

# The moves a history may take from each state (a subset of the legal ones, with their meaning).
MOVES = {
    "received": ["auto_route", "to_triage"],
    "needs_triage": ["route", "reject", "merge"],
    "routed": ["accept", "reroute", "send_back", "reject"],
    "in_progress": ["request_info", "resolve", "reroute", "send_back", "reject"],
    "waiting_citizen": ["resume", "resolve", "reject"],
    "resolved": ["close", "reopen", "rate_good"],
    "reopened": ["accept", "resolve", "route"],
}


def _pick(snapshot, data, kind):
    if kind == "agency":
        return data.draw(st.sampled_from(sorted(snapshot.agencies_by_id.values(), key=lambda r: r.id)[:6]))
    if kind == "field":
        return data.draw(st.sampled_from(sorted(snapshot.fields_by_id.values(), key=lambda r: r.id)[:5]))
    leaves = sorted((a for a in snapshot.areas.values() if a.depth >= 1), key=lambda a: a.id)
    return data.draw(st.sampled_from(leaves[:4] + leaves[-3:]))


def _apply(item, move, at, snapshot, data):
    def route(actor, agency=None):
        agency = agency or _pick(snapshot, data, "agency")
        field = _pick(snapshot, data, "field")
        item.agency_id, item.category_id = agency.id, field.id
        transition(item, "routed", actor=actor, now=at, data={"agency": agency.code, "category": field.code})

    if move == "auto_route":
        item.auto_routed = True
        route(Actor("classifier"))
    elif move == "to_triage":
        field = _pick(snapshot, data, "field") if data.draw(st.booleans()) else None
        item.category_id = field.id if field else None
        transition(item, "needs_triage", actor=Actor("system"), now=at, data={"category": field.code if field else None})
    elif move in ("route", "reroute"):
        route(STAFF)
    elif move == "send_back":
        item.agency_id = None
        transition(item, "needs_triage", actor=STAFF, now=at, data={"reason": "not_ours"})
    elif move == "accept" or move == "resume":
        transition(item, "in_progress", actor=STAFF, now=at)
    elif move == "request_info":
        transition(item, "waiting_citizen", actor=STAFF, now=at)
    elif move == "resolve":
        transition(item, "resolved", actor=STAFF, now=at)
    elif move == "reject":
        transition(item, "rejected", actor=STAFF, now=at)
    elif move in ("merge", "close"):
        transition(item, "closed", actor=STAFF, now=at)
    elif move == "reopen":
        item.rating = data.draw(st.integers(1, 2))
        record_event(item, "rating", actor=Actor("citizen"), data={"rating": item.rating}, now=at)
        transition(item, "reopened", actor=Actor("citizen"), now=at)
    elif move == "rate_good":
        item.rating = data.draw(st.integers(3, 5))
        record_event(item, "rating", actor=Actor("citizen"), data={"rating": item.rating}, now=at)


def _play(data, snapshot):
    """Plan every item's history, then play all steps in time order, refreshing rollups once among them."""
    plans = []
    for n in range(data.draw(st.integers(1, 14))):
        created = T0 + timedelta(hours=data.draw(st.integers(0, 24 * 12)), minutes=data.draw(st.integers(0, 59)))
        area = _pick(snapshot, data, "area") if data.draw(st.booleans()) else None
        plans.append([created, area, data.draw(st.lists(st.integers(1, 60), max_size=9))])
    steps = []
    for index, (created, area, gaps) in enumerate(plans):
        steps.append((created, index, "create"))
        at = created
        for gap in gaps:
            at = at + timedelta(hours=gap)
            steps.append((at, index, "move"))
    # Rollups refreshed twice, right after steps drawn among the history: later steps make their days dirty.
    times = sorted(s[0] for s in steps)
    for _ in range(2):
        steps.append((data.draw(st.sampled_from(times)) + timedelta(minutes=1), -1, "refresh"))
    steps.sort(key=lambda s: (s[0], s[1]))
    items = {}
    for at, index, kind in steps:
        if kind == "refresh":
            refresh_rollups(now=at)
            continue
        if kind == "create":
            created, area, _ = plans[index]
            item = FeedbackItem(
                id=uuid.uuid4(), tracking_code=f"P{index:07d}", citizen_token_hash="0" * 64, status="received",
                description="x", created_at=at, created_day=local_day(at), updated_at=at,
                area_id=area.id if area else None,
            )
            db.session.add(item)
            record_event(item, "received", actor=Actor("citizen"), to_status="received", now=at,
                         data={"area": area.code if area else None})
            items[index] = item
            continue
        item = items[index]
        options = MOVES.get(item.status)
        if options:
            _apply(item, data.draw(st.sampled_from(options)), at, snapshot, data)
        db.session.flush()
    db.session.flush()
    return sorted(s[0] for s in steps if s[2] != "refresh")


# --- the brute force: events only ---------------------------------------------------------------------------


def brute_force(query: ReportQuery, at: datetime, snapshot) -> dict:
    cal = calendar()
    rows = db.session.execute(
        sa.select(ItemEvent.item_id, ItemEvent.kind, ItemEvent.to_status, ItemEvent.actor_kind, ItemEvent.data,
                  ItemEvent.created_at).where(ItemEvent.created_at <= at).order_by(ItemEvent.id)
    ).all()
    events = defaultdict(list)
    for row in rows:
        events[row.item_id].append(row)
    area_path = {a.code: a.path for a in snapshot.areas.values()}
    groups = defaultdict(lambda: defaultdict(int))
    hists = defaultdict(lambda: [0] * 32)
    for item_events in events.values():
        first = item_events[0]
        assert first.kind == "received"
        day = local_day(first.created_at)
        if not (query.date_from <= day <= query.date_to):
            continue
        status, agency, category, due, handled_at = "received", None, None, None, None
        area = (first.data or {}).get("area")
        routed_agencies, auto, rating, waits, wait_start = [], None, None, timedelta(0), None
        for e in item_events[1:]:
            d = e.data or {}
            if e.kind == "rating":
                rating = d["rating"]
            if e.kind != "status":
                continue
            before, status = status, e.to_status
            if before == "waiting_citizen":
                waits += cal.working_time_between(wait_start, e.created_at)
            if status == "waiting_citizen":
                wait_start = e.created_at
            if status == "routed":
                agency, category = d["agency"], d["category"]
                routed_agencies.append(agency)
                auto = e.actor_kind == "classifier" if auto is None else auto
            if status == "needs_triage":
                agency = None
                category = d.get("category", category)
            due = datetime.fromisoformat(d["due_at"]) if d.get("due_at") else None
            if status in HANDLED and before not in HANDLED:
                handled_at = e.created_at
                worked = cal.working_time_between(first.created_at, e.created_at) - waits
            elif status not in HANDLED:
                handled_at = None
        if query.agency and agency != query.agency:
            continue
        if query.category and category != query.category:
            continue
        if query.area and not (area and (area_path[area] + "/").startswith(area_path[query.area] + "/")):
            continue
        if query.group_by == "agency":
            key = agency or "none"
        elif query.group_by == "category":
            key = category or "none"
        elif query.group_by == "month":
            key = f"{day.year:04d}-{day.month:02d}"
        else:
            depth = snapshot.area(query.area).depth + 1 if query.area else 1
            key = area_path[area].split("/")[depth] if area and len(area_path[area].split("/")) > depth else (area or "none")
        g = groups[key]
        g["received"] += 1
        if status in HANDLED:
            g["handled"] += 1
            g["handled_on_time"] += int(due is None or handled_at <= due)
            hists[key][resolve_bucket(int(worked.total_seconds()))] += 1
        elif status != "waiting_citizen" and due is not None and due < at:
            g["overdue_open"] += 1
        g["rerouted"] += int(any(a != b for a, b in zip(routed_agencies, routed_agencies[1:])))
        g["auto_routed"] += int(bool(auto))
        if rating is not None:
            g["ratings"] += 1
            g["rating_sum"] += rating
    out = {}
    for key, g in groups.items():
        out[key] = {
            "received": g["received"], "handled": g["handled"], "handled_on_time": g["handled_on_time"],
            "open": g["received"] - g["handled"], "overdue_open": g["overdue_open"], "ratings": g["ratings"],
            "rating_sum": g["rating_sum"], "rerouted": g["rerouted"], "auto_routed": g["auto_routed"],
            "p50": percentile(hists[key], 50), "p90": percentile(hists[key], 90),
        }
    return out


def _compare(report: dict, expected: dict) -> None:
    got = {}
    for row in report["rows"]:
        if row["received"] == 0:
            continue
        got[row["key"]] = {
            "received": row["received"], "handled": row["handled"], "handled_on_time": row["handled_on_time"],
            "open": row["open"], "overdue_open": row["overdue_open"], "ratings": row["ratings"],
            "rating_sum": round(row["rating_avg"] * row["ratings"]) if row["ratings"] else 0,
            "rerouted": round((row["reroute_rate"] or 0) * row["received"] / 100),
            "auto_routed": round((row["auto_route_rate"] or 0) * row["received"] / 100),
            "p50": row["resolve_hours_p50"], "p90": row["resolve_hours_p90"],
        }
    assert got == expected
    totals = report["totals"]
    assert totals["received"] == sum(e["received"] for e in expected.values())
    assert totals["handled"] == sum(e["handled"] for e in expected.values())
    assert totals["overdue_open"] == sum(e["overdue_open"] for e in expected.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_report_equals_brute_force_from_events(db_session, data):
    db.session.rollback()
    for table in ("report_rollups", "report_rollups_monthly", "report_rollup_days", "report_rollup_state", "item_events", "outbox_messages",
                  "feedback_items"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    snapshot = directory()
    times = _play(data, snapshot)
    last = times[-1]
    user = StaffUser(username="manager", role="manager")
    now = last + timedelta(hours=data.draw(st.sampled_from([0, 48, 24 * 40, 24 * 40])))
    if data.draw(st.sampled_from([True, True, False])):
        refresh_rollups(now=now)  # at the report's moment: March may be closed, whole, in the monthly rollups
    group_by = data.draw(st.sampled_from(["agency", "category", "area", "month"]))
    agencies = sorted(a.code for a in snapshot.agencies_by_id.values())[:6]
    period = data.draw(st.sampled_from(["part", "march", "march", "quarter"]))
    date_from, date_to = {
        "part": (date(2026, 3, 1) + timedelta(days=data.draw(st.integers(0, 6))),
                 date(2026, 3, 8) + timedelta(days=data.draw(st.integers(0, 20)))),
        "march": (date(2026, 3, 1), date(2026, 3, 31)),
        "quarter": (date(2026, 2, 1), date(2026, 4, 30)),
    }[period]
    query = ReportQuery(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        agency=data.draw(st.sampled_from([None, None, None, *agencies])),
        area=data.draw(st.sampled_from([None, None, snapshot.root.code,
                                        sorted(a.code for a in snapshot.areas.values() if a.depth == 1)[0]])),
    )
    _compare(processing_rate(query, user, now=now), brute_force(query, now, snapshot))
    # The same report as it read at an earlier moment: the events up to then, and nothing after.
    as_of = data.draw(st.sampled_from(times)) + timedelta(minutes=data.draw(st.sampled_from([0, 30, 600])))
    if as_of < now:
        past = ReportQuery(**{**query.__dict__, "as_of": as_of})
        _compare(processing_rate(past, user, now=now), brute_force(past, as_of, snapshot))


def test_waiting_for_the_citizen_is_never_overdue(db_session):
    """Past its deadline an item is overdue; while it waits for the citizen it is not, now or as of then."""
    db.session.rollback()
    snapshot = directory()
    agency = sorted(snapshot.agencies_by_id.values(), key=lambda r: r.id)[0]
    field = sorted(snapshot.fields_by_id.values(), key=lambda r: r.id)[0]
    item = FeedbackItem(id=uuid.uuid4(), tracking_code="W0000001", citizen_token_hash="0" * 64, status="received",
                        description="x", created_at=T0, created_day=local_day(T0), updated_at=T0)
    db.session.add(item)
    record_event(item, "received", actor=Actor("citizen"), to_status="received", now=T0, data={"area": None})
    item.agency_id, item.category_id = agency.id, field.id
    transition(item, "routed", actor=STAFF, now=T0, data={"agency": agency.code, "category": field.code})
    transition(item, "in_progress", actor=STAFF, now=T0 + timedelta(hours=1))
    due = item.due_at
    transition(item, "waiting_citizen", actor=STAFF, now=due + timedelta(days=1))
    db.session.flush()
    user = StaffUser(username="manager", role="manager")
    query = ReportQuery(date_from=local_day(T0), date_to=local_day(T0), group_by="agency")
    now = due + timedelta(days=2)
    assert processing_rate(query, user, now=now)["totals"]["overdue_open"] == 0
    overdue_then = ReportQuery(**{**query.__dict__, "as_of": due + timedelta(hours=2)})
    assert processing_rate(overdue_then, user, now=now)["totals"]["overdue_open"] == 1
    waiting_then = ReportQuery(**{**query.__dict__, "as_of": due + timedelta(days=1, hours=1)})
    assert processing_rate(waiting_then, user, now=now)["totals"]["overdue_open"] == 0
    assert brute_force(overdue_then, overdue_then.as_of, snapshot)[agency.code]["overdue_open"] == 1
