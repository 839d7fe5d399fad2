"""An Open311 request is an item like any other: in the agency's queue, handled by staff, followed through Open311."""
from __future__ import annotations

import json

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, ItemEvent
from tests.open311.conftest import BASE, PERSONAL, both, submit

NATIVE = {
    "description": "Nước máy ở khu phố Đọ Xá mất từ sáng, chưa thấy thông báo gì.",
    "category": "water", "address": "phường Tiền Ninh Vệ, TP Bắc Ninh", "consent_public": True,
    "contact": {"name": "Trần Thị Thử", "phone": "0987 654 321"},
}


def act(client, headers, item_id, body):
    etag = client.get(f"/api/v1/triage/items/{item_id}", headers=headers).headers["ETag"]
    response = client.post(f"/api/v1/triage/items/{item_id}/actions", json=body, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.get_json()
    return response


def test_an_open311_request_is_queued_handled_and_followed(client, app, make_staff, open311_key):
    officer = make_staff("nuoc.o311", "officer", "NSBN")
    manager = make_staff("manager.o311", "manager")
    native = client.post("/api/v1/feedback", json=NATIVE).get_json()["tracking_code"]
    code = submit(client, open311_key).get_json()[0]["service_request_id"]

    queue = client.get("/api/v1/triage/items", headers=officer).get_json()
    assert {i["tracking_code"] for i in queue["items"]} == {native, code} and queue["pagination"]["total"] == 2
    assert client.get("/api/v1/triage/items", headers=manager).get_json()["pagination"]["total"] == 2
    item_id = next(i["id"] for i in queue["items"] if i["tracking_code"] == code)
    detail = client.get(f"/api/v1/triage/items/{item_id}", headers=officer).get_json()
    assert detail["channel"] == "open311" and detail["contact"]["phone"] == "0912 345 678"
    details = next(e for e in detail["timeline"] if e["kind"] == "open311_request")
    assert "Cống, rãnh bị tắc" in details["message"]

    act(client, officer, item_id, {"action": "accept"})
    act(client, officer, item_id, {"action": "request_info", "message": "Xin cho biết số nhà gần cống bị tắc."})
    [waiting] = both(client, f"requests/{code}", "service_requests")
    assert waiting["status"] == "open" and waiting["status_notes"] == "Xin cho biết số nhà gần cống bị tắc."
    act(client, officer, item_id, {"action": "resolve", "text": "Đã nạo vét cống đầu ngõ ngày 20/11.",
                                   "evidence_reason": "Kiểm tra trực tiếp sau trận mưa."})
    [done] = both(client, f"requests/{code}", "service_requests")
    assert done["status"] == "closed" and done["status_notes"] == "Đã nạo vét cống đầu ngõ ngày 20/11."
    assert done["service_notice"] is None and done["updated_datetime"] >= waiting["updated_datetime"]
    closed = both(client, "requests", "service_requests", query_string={"status": "closed"})
    assert [r["service_request_id"] for r in closed] == [code]

    # And the manager's report counts it like any other: two water items for NSBN, one of them handled.
    from feedback_app.models.types import local_day, utcnow

    today = local_day(utcnow()).isoformat()
    report = client.get("/api/v1/reports/processing-rate", headers=manager,
                        query_string={"from": today, "to": today, "group_by": "agency"}).get_json()
    nsbn = next(r for r in report["rows"] if r["key"] == "NSBN")
    assert (nsbn["received"], nsbn["handled"], nsbn["open"]) == (2, 1, 1)

    with app.app_context():
        received = db.session.scalars(sa.select(ItemEvent.data).join(FeedbackItem).where(
            ItemEvent.kind == "received")).all()
        # Reports count items from these events: the Open311 one is there, told apart only by its channel.
        assert sorted(d["channel"] for d in received) == ["open311", "web"]


def test_no_get_shows_a_phone_an_email_or_a_name(client, app, open311_key):
    code = submit(client, open311_key, description="Cống tắc trước nhà anh Nguyễn Văn Thử, gọi 0912 345 678.",
                  media_url="https://photos.example.org/cong.jpg").get_json()[0]["service_request_id"]
    client.post("/api/v1/feedback", json=NATIVE)
    with app.app_context():
        item_id = str(db.session.scalar(sa.select(FeedbackItem.id).where(FeedbackItem.tracking_code == code)))
    paths = ["discovery", "services", "services/WATER", "requests", f"requests/{code}", f"tokens/{item_id}"]
    seen = ""
    for path in paths:
        for fmt in ("xml", "json"):
            response = client.get(f"{BASE}/{path}.{fmt}")
            assert response.status_code == 200
            seen += response.get_data(as_text=True)
    assert code in seen
    for personal in (*PERSONAL, "0987 654 321", "Trần Thị Thử", "0912345678"):
        assert personal not in seen, personal
    assert "[số điện thoại]" in json.dumps(client.get(f"{BASE}/requests/{code}.json").get_json(), ensure_ascii=False)
