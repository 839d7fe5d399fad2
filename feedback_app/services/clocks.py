"""Item clocks: deadlines from the SLA policy and the working calendar, paused while waiting for the citizen."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context

from feedback_app.extensions import db
from feedback_app.models import CalendarDay, FeedbackItem, SlaPolicy
from feedback_app.models.feedback import HANDLED_STATUSES
from feedback_app.services.working_calendar import WorkingCalendar, parse_office_hours

WARN_SHARE = 0.75
CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Policy:
    ack_hours: float
    resolve_days: float


# iHanoi takes an item in within 8 working hours; HCMC 1022 gives a result within 5 days.
BUILT_IN = {"normal": Policy(8, 5), "urgent": Policy(4, 2), "complex": Policy(8, 15)}


class _Cache:
    def __init__(self):
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self.calendar: WorkingCalendar | None = None
        self.policies: dict[tuple[int | None, str], Policy] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = 0.0

    def load(self) -> "_Cache":
        if time.monotonic() - self._loaded_at < CACHE_SECONDS and self.calendar is not None:
            return self
        with self._lock:
            days = db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind)).all()
            office = current_app.config.get("OFFICE_HOURS", "07:30-11:30,13:00-17:00") if has_app_context() else None
            self.calendar = WorkingCalendar(
                office_hours=parse_office_hours(office) if office else WorkingCalendar().office_hours,
                days_off=frozenset(d for d, k in days if k == "day_off"),
                working_days=frozenset(d for d, k in days if k == "working_day"),
            )
            self.policies = {
                (p.field_id, p.priority): Policy(p.ack_hours, p.resolve_days)
                for p in db.session.scalars(sa.select(SlaPolicy))
            }
            self._loaded_at = time.monotonic()
        return self


_cache = _Cache()
invalidate_clocks = _cache.invalidate


def calendar() -> WorkingCalendar:
    return _cache.load().calendar


def policy_for(field_id: int | None, priority: str) -> Policy:
    """The field's own policy for the priority, else the default policy for it, else the built-in one."""
    policies = _cache.load().policies
    return (policies.get((field_id, priority)) or policies.get((None, priority))
            or BUILT_IN.get(priority) or BUILT_IN["normal"])


def start_clock(item: FeedbackItem, now: datetime) -> None:
    """Set the 75% marks and the deadlines; a reroute keeps the first clock unless settings say otherwise."""
    if item.clock_started_at is not None and not current_app.config.get("CLOCK_RESTARTS_ON_REROUTE", False):
        return
    cal = calendar()
    policy = policy_for(item.category_id, item.priority or "normal")
    ack = timedelta(hours=policy.ack_hours).total_seconds() / 3600
    resolve = (cal.day_length * policy.resolve_days).total_seconds() / 3600
    item.clock_started_at = now
    item.ack_warn_at, item.ack_due_at, item.warn_at, item.due_at = cal.add_working_times(
        now, [ack * WARN_SHARE, ack, resolve * WARN_SHARE, resolve])


def pause_clock(item: FeedbackItem, now: datetime) -> None:
    if item.paused_at is None:
        item.paused_at = now


def resume_clock(item: FeedbackItem, now: datetime) -> timedelta:
    """Shift every mark still ahead by exactly the working time spent waiting for the citizen."""
    if item.paused_at is None:
        return timedelta(0)
    cal = calendar()
    paused = cal.working_time_between(item.paused_at, now)
    hours = paused.total_seconds() / 3600
    for column in ("ack_warn_at", "ack_due_at", "warn_at", "due_at"):
        mark = getattr(item, column)
        if mark is not None and paused:
            setattr(item, column, cal.add_working_time(mark, hours=hours))
    item.paused_at = None
    return paused


def on_transition(item: FeedbackItem, from_status: str, to_status: str, now: datetime) -> dict:
    """Called by `transition` for every move; returns what changed, for the event's data."""
    changes: dict = {}
    if from_status == "waiting_citizen" and to_status != "waiting_citizen":
        paused = int(resume_clock(item, now).total_seconds())
        item.paused_seconds = (item.paused_seconds or 0) + paused
        changes["paused_working_seconds"] = paused
    if to_status == "routed":
        start_clock(item, now)
    elif to_status == "waiting_citizen":
        pause_clock(item, now)
    if to_status in HANDLED_STATUSES and from_status not in HANDLED_STATUSES:
        # Working time from receipt to handling, less the working time spent waiting for the citizen.
        spent = int(calendar().working_time_between(item.created_at, now).total_seconds())
        item.handled_at = now
        item.resolve_seconds = max(spent - (item.paused_seconds or 0), 0)
        changes["working_seconds"] = item.resolve_seconds
    elif to_status not in HANDLED_STATUSES:
        item.handled_at = None
        item.resolve_seconds = None
    return changes
