"""Item clocks: deadlines from the policy and the calendar, paused while waiting, kept across a reroute."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem
from feedback_app.services.directory import directory
from feedback_app.services.workflow import Actor, transition

VN = ZoneInfo("Asia/Ho_Chi_Minh")
STAFF = Actor("staff", "1")


def vn(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.fixture
def water_item(db_session):
    snapshot = directory()
    item = FeedbackItem(id=uuid.uuid4(), tracking_code="CLK23456", citizen_token_hash="0" * 64, status="needs_triage",
                        description="Mất nước sinh hoạt cả khu phố", category_id=snapshot.field("water").id,
                        agency_id=snapshot.agencies_by_id[next(iter(snapshot.agencies_by_id))].id,
                        created_at=vn(2026, 2, 13, 15, 0), updated_at=vn(2026, 2, 13, 15, 0))
    db_session.add(item)
    db_session.flush()
    return item


def test_deadlines_follow_the_fields_policy_across_tet(water_item):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 2, 13, 16, 0))
    # Water: acknowledge within 4 working hours, resolve within 3 working days; Tết is 16-20 Feb 2026.
    assert water_item.ack_due_at == vn(2026, 2, 23, 10, 30)
    assert water_item.ack_warn_at == vn(2026, 2, 23, 9, 30)
    assert water_item.due_at == vn(2026, 2, 25, 16, 0)
    assert water_item.warn_at == vn(2026, 2, 25, 8, 30)  # 18 of the 24 working hours


def test_waiting_for_the_citizen_shifts_by_exactly_the_paused_working_time(water_item):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 2, 13, 16, 0))
    transition(water_item, "in_progress", actor=STAFF, now=vn(2026, 2, 23, 8, 0))
    transition(water_item, "waiting_citizen", actor=STAFF, now=vn(2026, 2, 23, 9, 0))
    event = transition(water_item, "in_progress", actor=Actor("citizen"), now=vn(2026, 2, 24, 9, 0))
    assert event.data["paused_working_seconds"] == 8 * 3600  # Monday 09:00-17:00 less lunch, Tuesday 07:30-09:00
    assert water_item.due_at == vn(2026, 2, 26, 16, 0)
    assert water_item.paused_at is None


def test_a_reroute_keeps_the_first_clock(water_item, app):
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 2, 8, 0))
    first = water_item.due_at
    transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 3, 8, 0))
    assert water_item.due_at == first
    app.config["CLOCK_RESTARTS_ON_REROUTE"] = True
    try:
        transition(water_item, "routed", actor=STAFF, now=vn(2026, 3, 4, 8, 0))
        assert water_item.due_at > first
    finally:
        app.config["CLOCK_RESTARTS_ON_REROUTE"] = False


def test_the_citizen_sees_the_deadline(client):
    body = client.post("/api/v1/feedback", json={
        "description": "Đèn đường trước số 12 Lý Thái Tổ bị hỏng", "category": "electricity",
        "address": "phường Suối Hoa, TP Bắc Ninh"}).get_json()
    assert body["status"] == "routed" and body["due_at"].endswith("+07:00")
    view = client.get(f"/api/v1/feedback/{body['tracking_code']}").get_json()
    assert view["due_at"] == body["due_at"]
