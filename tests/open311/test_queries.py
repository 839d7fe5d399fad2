"""GET requests: ids, service codes, open/closed, the 90-day window, paging, updated_after; the public view's rules."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem
from feedback_app.models.types import utcnow
from tests.open311.conftest import BASE, WATER_REPORT, both, submit


def codes(client, query: str = "") -> list[str]:
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 200, response.get_json()
    return [r["service_request_id"] for r in response.get_json()]


def move(app, code: str, **columns) -> None:
    with app.app_context():
        db.session.execute(sa.update(FeedbackItem).where(FeedbackItem.tracking_code == code).values(**columns))
        db.session.commit()


@pytest.fixture
def three(client, open311_key) -> list[str]:
    """Two WATER requests and one ENV request, oldest first."""
    env = {"service_code": "ENV", "attribute[water_issue]": "", "attribute[pollution_type][]": "smoke_dust",
           "description": "Nhà máy gạch xả khói đen suốt đêm, cả xóm không ngủ được."}
    made = [submit(client, open311_key), submit(client, open311_key), submit(client, open311_key, **env)]
    return [r.get_json()[0]["service_request_id"] for r in made]


def test_newest_first_and_ids_override_every_other_argument(client, three):
    assert codes(client) == list(reversed(three))
    picked = f"{three[0]},{three[2].lower()}"
    assert set(codes(client, f"service_request_id={picked}&status=closed&service_code=LAND")) == {three[0], three[2]}
    assert codes(client, "service_request_id=NOSUCHID") == []


def test_service_code_filter_takes_a_comma_list(client, three):
    assert codes(client, "service_code=ENV") == [three[2]]
    assert set(codes(client, "service_code=ENV,WATER")) == set(three)
    assert codes(client, "service_code=LAND") == []


def test_status_maps_the_workflow_to_open_and_closed(client, app, three):
    from feedback_app.services.workflow import SYSTEM, transition

    with app.app_context():
        item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == three[1]))
        transition(item, "rejected", actor=SYSTEM, message="Trùng với phản ánh đã tiếp nhận, gọi 0912 345 678.")
        db.session.commit()
    assert codes(client, "status=closed") == [three[1]]
    assert set(codes(client, "status=open")) == {three[0], three[2]}
    assert set(codes(client, "status=open,closed")) == set(three)
    assert set(codes(client, "status=open&status=closed")) == set(three)
    [closed] = both(client, f"requests/{three[1]}", "service_requests")
    assert closed["status"] == "closed" and closed["service_notice"] is None
    assert closed["status_notes"] == "Trùng với phản ánh đã tiếp nhận, gọi [số điện thoại]."
    assert client.get(f"{BASE}/requests.json?status=pending").status_code == 400


def test_the_default_window_is_the_last_90_days(client, app, three):
    now = utcnow()
    move(app, three[0], created_at=now - timedelta(days=100))
    assert three[0] not in codes(client)
    since = quote((now - timedelta(days=120)).isoformat())
    until = quote((now - timedelta(days=60)).isoformat())
    assert codes(client, f"start_date={since}&end_date={until}") == [three[0]]
    assert codes(client, f"start_date={since}") == [three[0]]  # start alone: the 90 days after it
    assert client.get(f"{BASE}/requests.json?start_date={since}&end_date={quote(now.isoformat())}").status_code == 400
    assert client.get(f"{BASE}/requests.json?start_date={until}&end_date={since}").status_code == 400
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400


def test_w3_dates_with_z_an_offset_or_a_bare_day(client, app, three):
    move(app, three[0], created_at=utcnow().replace(year=2025, month=3, day=10, hour=1))
    for since, until in (("2025-03-01T00:00:00Z", "2025-03-31T00:00:00Z"),
                         ("2025-03-10T07:00:00+07:00", "2025-03-10T09:00:00+07:00"),
                         ("2025-03-10T07:00:00 07:00", "2025-03-10T09:00:00 07:00"),  # '+' sent unencoded
                         ("2025-03-10", "2025-03-11")):
        assert codes(client, f"start_date={since}&end_date={until}") == [three[0]], (since, until)


def test_updated_after_alone_reads_changes_of_any_age(client, app, three):
    now = utcnow()
    for code in three:
        move(app, code, updated_at=now - timedelta(days=2))
    move(app, three[0], created_at=now - timedelta(days=200), updated_at=now)
    assert codes(client, f"updated_after={quote((now - timedelta(hours=1)).isoformat())}") == [three[0]]
    every = codes(client, f"updated_after={quote((now - timedelta(days=3)).isoformat())}")
    assert every == [three[2], three[1], three[0]]


def test_pages_of_at_most_1000(client, three):
    assert codes(client, "page_size=2") == [three[2], three[1]]
    assert codes(client, "page_size=2&page=2") == [three[0]]
    assert client.get(f"{BASE}/requests.json?page_size=1001").status_code == 400
    assert client.get(f"{BASE}/requests.json?page=0").status_code == 400


def test_empty_and_unknown_parameters_change_nothing(client, three):
    assert codes(client, "status=&service_code=&jurisdiction_id=&extensions=true&locale=vi") == list(reversed(three))


def test_the_citizens_words_and_place_are_shown_only_with_consent(client):
    private = dict(description="Đường Lý Thái Tổ có ổ gà rất sâu, gọi tôi 0912 345 678 để chỉ chỗ.",
                   category="traffic", address="12 Lý Thái Tổ, phường Suối Hoa, TP Bắc Ninh", lat=21.1861, lon=106.0763)
    hidden = client.post("/api/v1/feedback", json=private).get_json()["tracking_code"]
    shown = client.post("/api/v1/feedback", json={**private, "consent_public": True}).get_json()["tracking_code"]
    [one] = both(client, f"requests/{hidden}", "service_requests")
    assert one["description"] is None and one["lat"] is None and one["long"] is None
    assert one["address"] == "Phường Suối Hoa, Thành phố Bắc Ninh, Tỉnh Bắc Ninh" and one["address_id"]
    [other] = both(client, f"requests/{shown}", "service_requests")
    assert other["description"] == "Đường Lý Thái Tổ có ổ gà rất sâu, gọi tôi [số điện thoại] để chỉ chỗ."
    assert other["address"] == private["address"] and (other["lat"], other["long"]) == (21.1861, 106.0763)


def test_open311_submissions_can_stay_unpublished(client, app, open311_key):
    app.config["OPEN311_CONSENT_PUBLIC"] = False
    try:
        code = submit(client, open311_key).get_json()[0]["service_request_id"]
    finally:
        app.config["OPEN311_CONSENT_PUBLIC"] = True
    [one] = both(client, f"requests/{code}", "service_requests")
    assert one["description"] is None and one["address"] != WATER_REPORT["address_string"]
