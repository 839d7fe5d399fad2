"""Decreed days: extra days off and make-up working days that the government announces each year."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import CalendarDay
from feedback_app.services.clocks import invalidate_clocks
from feedback_app.services.errors import NotFound

KINDS = ("day_off", "working_day")


def set_day(*, day: date, kind: str, note: str | None = None) -> CalendarDay:
    row = db.session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind, note=note)
        db.session.add(row)
    else:
        row.kind, row.note = kind, note
    db.session.flush()
    invalidate_clocks()
    return row


def remove_day(day: date) -> None:
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise NotFound()
    db.session.delete(row)
    db.session.flush()
    invalidate_clocks()


def list_days(year: int | None = None) -> list[CalendarDay]:
    query = sa.select(CalendarDay).order_by(CalendarDay.day)
    if year:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return db.session.scalars(query).all()
