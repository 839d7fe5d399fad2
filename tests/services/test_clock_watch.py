"""The watcher: warnings at 75% and breaches at 100%, each once, for acknowledging and resolving; paused clocks wait."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from feedback_app.models import ClockAlert, ItemEvent, OutboxMessage
from feedback_app.services.clock_watch import watch_clocks
from feedback_app.services.workflow import Actor, transition
from tests.services.test_clocks import STAFF, vn, water_item  # noqa: F401  (the fixture)


def alerts(db_session):
    return sorted(db_session.execute(sa.select(ClockAlert.goal, ClockAlert.level)).all())


def test_full_clock_story_with_time_moved_forward(db_session, water_item):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 2, 8, 0))  # Monday
    db_session.flush()
    assert watch_clocks(vn(2026, 3, 2, 9, 0)) == {
        "acknowledge_warning": 0, "acknowledge_breach": 0, "resolve_warning": 0, "resolve_breach": 0}
    assert watch_clocks(water_item.ack_warn_at)["acknowledge_warning"] == 1
    assert watch_clocks(water_item.ack_due_at + timedelta(minutes=1))["acknowledge_breach"] == 1
    assert watch_clocks(water_item.ack_due_at + timedelta(minutes=2))["acknowledge_breach"] == 0  # once only
    transition(water_item, "in_progress", actor=STAFF, now=water_item.ack_due_at + timedelta(hours=1))
    db_session.flush()
    assert watch_clocks(water_item.warn_at)["resolve_warning"] == 1
    assert watch_clocks(water_item.due_at)["resolve_breach"] == 1
    assert watch_clocks(water_item.due_at + timedelta(days=3)) == {
        "acknowledge_warning": 0, "acknowledge_breach": 0, "resolve_warning": 0, "resolve_breach": 0}
    assert alerts(db_session) == [("acknowledge", "breach"), ("acknowledge", "warning"),
                                  ("resolve", "breach"), ("resolve", "warning")]
    kinds = db_session.scalars(sa.select(ItemEvent.kind).where(ItemEvent.kind.like("clock_%"))).all()
    assert sorted(kinds) == ["clock_breach", "clock_breach", "clock_warning", "clock_warning"]
    topics = db_session.scalars(sa.select(OutboxMessage.topic).where(OutboxMessage.topic.like("clock.%"))).all()
    assert sorted(topics) == ["clock.breach", "clock.breach", "clock.warning", "clock.warning"]


def test_an_accepted_item_has_met_its_acknowledgement_goal(db_session, water_item):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 2, 8, 0))
    transition(water_item, "in_progress", actor=STAFF, now=vn(2026, 3, 2, 8, 30))
    db_session.flush()
    fired = watch_clocks(water_item.ack_due_at + timedelta(hours=1))
    assert fired["acknowledge_warning"] == fired["acknowledge_breach"] == 0


def test_a_paused_clock_fires_nothing(db_session, water_item):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 2, 8, 0))
    transition(water_item, "in_progress", actor=STAFF, now=vn(2026, 3, 2, 8, 30))
    transition(water_item, "waiting_citizen", actor=STAFF, now=vn(2026, 3, 2, 9, 0))
    db_session.flush()
    assert watch_clocks(water_item.due_at + timedelta(days=5))["resolve_breach"] == 0
    transition(water_item, "in_progress", actor=Actor("citizen"), now=vn(2026, 3, 4, 9, 0))
    db_session.flush()
    assert watch_clocks(water_item.due_at)["resolve_breach"] == 1
