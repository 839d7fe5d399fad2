"""Citizen intake through HTTP: submission, tracking, messages, public feed, and every kind of bad input."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Attachment, FeedbackItem, ItemContact, ItemEvent, OutboxMessage
from tests.factories import ROAD_REPORT, file_part, jpeg_bytes, mp4_bytes, png_bytes

PERSONAL = ["Nguyễn Văn Thử", "0912 345 678", "0912345678", "thu.nguyen@example.com"]


def submit(client, payload=None, **kwargs):
    return client.post("/api/v1/feedback", json=payload or ROAD_REPORT, **kwargs)


def test_links_keep_a_path_prefix(client):
    """Behind a path prefix (SCRIPT_NAME), the links keep it."""
    mounted = client.post("/api/v1/feedback", json=ROAD_REPORT, base_url="http://localhost/phananh")
    assert mounted.status_code == 201
    body = mounted.get_json()
    assert body["links"] == {"self": f"/phananh/api/v1/feedback/{body['tracking_code']}",
                             "messages": f"/phananh/api/v1/feedback/{body['tracking_code']}/messages"}
    assert mounted.headers["Location"] == body["links"]["self"]


def test_submission_is_committed_with_its_event_routing_and_outbox(client, app):
    response = submit(client)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["tracking_code"]) == 8 and body["citizen_token"]
    assert body["status"] == "routed"
    assert body["category"]["code"] == "traffic"
    assert body["agency"]["code"]  # the routing rules named an agency
    assert body["due_at"].endswith("+07:00")  # the deadline, shown to the citizen in Vietnam's time
    assert body["links"]["self"].endswith(body["tracking_code"])
    assert response.headers["Location"] == body["links"]["self"]
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": ""}):
        from flask import url_for

        assert body["links"] == {
            "self": url_for("feedback.FeedbackByCode", tracking_code=body["tracking_code"]),
            "messages": url_for("feedback.FeedbackMessages", tracking_code=body["tracking_code"]),
        }
    with app.app_context():
        item = db.session.get(FeedbackItem, __import__("uuid").UUID(body["id"]))
        assert item.area.code == "09187"  # Suối Hoa, found in the address
        kinds = [e.kind for e in db.session.scalars(sa.select(ItemEvent).where(ItemEvent.item_id == item.id))]
        assert kinds == ["received", "status"]
        topics = sorted(db.session.scalars(sa.select(OutboxMessage.topic)))
        assert topics == ["item.routed"]  # item.received: no recipient (no citizen app webhook), not written
        assert item.citizen_token_hash != body["citizen_token"]
        assert db.session.get(ItemContact, item.id).phone == "0912 345 678"


def test_public_view_shows_the_item_and_no_personal_data(client):
    payload = dict(ROAD_REPORT, description=ROAD_REPORT["description"] + " Gọi tôi: 0912 345 678, thu.nguyen@example.com")
    body = submit(client, payload).get_json()
    response = client.get(f"/api/v1/feedback/{body['tracking_code'].lower()}")
    assert response.status_code == 200
    view = response.get_json()
    assert view["status"] == "routed" and view["category"]["code"] == "traffic"
    assert [e["status"] for e in view["timeline"]] == ["received", "routed"]
    text = json.dumps(view, ensure_ascii=False)
    for secret in PERSONAL + [body["citizen_token"]]:
        assert secret not in text
    assert "[số điện thoại]" in view["description"]


def test_without_consent_the_citizens_words_are_not_public(client):
    body = submit(client, dict(ROAD_REPORT, consent_public=False)).get_json()
    view = client.get(f"/api/v1/feedback/{body['tracking_code']}").get_json()
    assert view["description"] is None and view["title"] is None
    feed = client.get("/api/v1/feedback").get_json()
    assert body["tracking_code"] not in [i["tracking_code"] for i in feed["items"]]


def test_anonymous_submission_keeps_no_contact(client, app):
    body = submit(client, dict(ROAD_REPORT, anonymous=True)).get_json()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemContact)) == 0


def test_without_category_or_rule_the_item_waits_for_triage(client):
    payload = {"description": "Có việc cần phản ánh nhưng không biết gửi ai giải quyết."}
    body = submit(client, payload).get_json()
    assert body["status"] == "needs_triage" and body["agency"] is None


def test_point_is_resolved_to_the_nearest_area(client, app):
    payload = dict(ROAD_REPORT, address=None, lat=21.1165, lon=105.9595)  # near Từ Sơn
    body = submit(client, payload).get_json()
    with app.app_context():
        item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == body["tracking_code"]))
        assert item.area.path.startswith("27/261/")


def test_multipart_with_photos_and_video(client, app):
    data = {
        "data": json.dumps(ROAD_REPORT),
        "files": [file_part(png_bytes(), "a.png"), file_part(jpeg_bytes(), "b.jpg"), file_part(mp4_bytes(), "c.mp4")],
    }
    response = client.post("/api/v1/feedback", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        types = sorted(db.session.scalars(sa.select(Attachment.content_type)))
        assert types == ["image/jpeg", "image/png", "video/mp4"]
        stored = db.session.scalars(sa.select(Attachment.storage_key)).all()
        assert all(len(key.split("/")[1].split(".")[0]) == 64 for key in stored)  # by content hash


def test_multipart_flat_fields(client):
    data = {
        "description": ROAD_REPORT["description"], "category": "traffic", "contact.phone": "0912345678",
        "consent_public": "true", "files": [file_part(png_bytes(), "a.png")],
    }
    response = client.post("/api/v1/feedback", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def test_file_type_is_sniffed_from_the_bytes_not_the_name(client):
    data = {"data": json.dumps(ROAD_REPORT), "files": [file_part(b"<html>not a photo</html>", "photo.jpg")]}
    response = client.post("/api/v1/feedback", data=data, content_type="multipart/form-data")
    assert response.status_code == 415
    assert response.get_json()["errors"] == {"files": ["photo.jpg"]}


def test_file_over_the_size_limit_is_413_and_nothing_is_stored(client, app):
    app.config["UPLOAD_MAX_BYTES"] = 1000
    try:
        big = png_bytes() + b"\x00" * 2000
        data = {"data": json.dumps(ROAD_REPORT), "files": [file_part(big, "big.png")]}
        response = client.post("/api/v1/feedback", data=data, content_type="multipart/form-data")
    finally:
        app.config["UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 0


def test_body_over_the_request_limit_is_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 5000
    try:
        response = client.post("/api/v1/feedback", data="x" * 6000, content_type="application/json")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 52 * 1024 * 1024
    assert response.status_code == 413
    assert set(response.get_json()) == {"code", "status", "message", "errors"}


def test_more_than_five_files_is_refused(client):
    files = [file_part(png_bytes(), f"{i}.png") for i in range(6)]
    response = client.post("/api/v1/feedback", data={"data": json.dumps(ROAD_REPORT), "files": files},
                           content_type="multipart/form-data")
    assert response.status_code == 422


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"description": "short"}, "description"),
        ({"description": " " * 20}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({**ROAD_REPORT, "status": "closed"}, "status"),
        ({**ROAD_REPORT, "agency": "SGTVT"}, "agency"),
        ({**ROAD_REPORT, "due_at": "2030-01-01T00:00:00Z"}, "due_at"),
        ({**ROAD_REPORT, "category": "no-such-field"}, "category"),
        ({**ROAD_REPORT, "area_code": "99999"}, "area_code"),
        ({**ROAD_REPORT, "lat": 21.0}, "lat"),
        ({**ROAD_REPORT, "lat": 123, "lon": 5}, "lat"),
        ({**ROAD_REPORT, "contact": {"email": "not-an-email"}}, "contact"),
        ({**ROAD_REPORT, "contact": {"phone": "call me maybe"}}, "contact"),
        ({**ROAD_REPORT, "channel": "pigeon"}, "channel"),
        ({**ROAD_REPORT, "title": "nul \x00 inside"}, "title"),
        ({**ROAD_REPORT, "description": "an unpaired surrogate \ud800 that UTF-8 cannot hold"}, "description"),
        ({**ROAD_REPORT, "contact": {"name": "\udfff"}}, "contact"),
    ],
)
def test_invalid_fields_get_422_naming_the_field(client, app, payload, field):
    response = submit(client, payload, headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert set(body) == {"code", "status", "message", "errors"} and body["code"] == 422
    assert field in body["errors"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 0


def test_messages_follow_accept_language(client):
    vi = submit(client, {"description": "short"}, headers={"Accept-Language": "vi-VN,vi;q=0.9"}).get_json()
    en = submit(client, {"description": "short"}, headers={"Accept-Language": "en-US"}).get_json()
    assert vi["message"] != en["message"]
    assert "Dữ liệu" in vi["message"] and "fields" in en["message"]
    assert vi["errors"]["description"] != en["errors"]["description"]


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 422),
        # JSON may write an unpaired surrogate, even in a key: refused, never a 500.
        ({"data": '{"description": "\\ud800 đường hỏng rất nặng", "\\udc00": 1}', "content_type": "application/json"}, 422),
        ({"data": "hello", "content_type": "text/plain"}, 415),
        ({"data": "", "content_type": "application/xml"}, 415),
    ],
)
def test_malformed_bodies(client, kwargs, status):
    response = client.post("/api/v1/feedback", **kwargs)
    assert response.status_code == status
    assert set(response.get_json()) == {"code", "status", "message", "errors"}


def test_unknown_route_and_method_are_json(client):
    assert client.get("/api/v1/feedback/NOPE2345").status_code == 404
    response = client.put("/api/v1/feedback")
    assert response.status_code == 405 and response.get_json()["code"] == 405


def test_citizen_adds_information_with_the_token_only(client, app):
    body = submit(client).get_json()
    url = f"/api/v1/feedback/{body['tracking_code']}/messages"
    assert client.post(url, json={"message": "Thêm ảnh sau", "citizen_token": "wrong"}).status_code == 403
    assert client.post(url, json={"message": "Thêm ảnh sau"}).status_code == 403
    ok = client.post(url, json={"message": "Ổ gà đã to hơn", "citizen_token": body["citizen_token"]})
    assert ok.status_code == 201, ok.get_json()
    header = client.post(url, json={"message": "Lần hai"}, headers={"X-Citizen-Token": body["citizen_token"]})
    assert header.status_code == 201
    view = client.get(f"/api/v1/feedback/{body['tracking_code']}").get_json()
    assert "Ổ gà đã to hơn" not in json.dumps(view, ensure_ascii=False)  # staff see it, the public does not


def test_citizen_reply_brings_a_waiting_item_back(client, app):
    from feedback_app.services.workflow import Actor, transition

    body = submit(client).get_json()
    with app.app_context():
        item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == body["tracking_code"]))
        transition(item, "in_progress", actor=Actor("staff", "1"))
        transition(item, "waiting_citizen", actor=Actor("staff", "1"))
        db.session.commit()
    response = client.post(f"/api/v1/feedback/{body['tracking_code']}/messages",
                           json={"message": "Đây là ảnh bổ sung", "citizen_token": body["citizen_token"]})
    assert response.get_json()["status"] == "in_progress"


def test_trusted_backend_acts_for_its_own_items_without_the_token(client, api_key):
    body = submit(client, headers={"X-API-Key": api_key}).get_json()
    url = f"/api/v1/feedback/{body['tracking_code']}/messages"
    assert client.post(url, json={"message": "Bổ sung"}, headers={"X-API-Key": api_key}).status_code == 201
    other = submit(client).get_json()
    url = f"/api/v1/feedback/{other['tracking_code']}/messages"
    assert client.post(url, json={"message": "Bổ sung"}, headers={"X-API-Key": api_key}).status_code == 403


def test_a_revoked_key_stops_at_once_here_and_within_the_cache_time_elsewhere(client, app, api_key, monkeypatch):
    import feedback_app.services.clients as clients
    from feedback_app.models import ApiClient
    from feedback_app.models.types import utcnow

    body = submit(client, headers={"X-API-Key": api_key}).get_json()
    url = f"/api/v1/feedback/{body['tracking_code']}/messages"
    add = lambda: client.post(url, json={"message": "Bổ sung"}, headers={"X-API-Key": api_key}).status_code  # noqa: E731
    assert add() == 201
    # Revoked by another process (straight in the database): this process trusts its lookup a while longer...
    with app.app_context():
        db.session.execute(sa.update(ApiClient).values(revoked_at=utcnow()))
        db.session.commit()
    assert add() == 201
    # ...and no longer than API_KEY_CACHE_SECONDS.
    later = clients._clock() + app.config["API_KEY_CACHE_SECONDS"] + 1
    monkeypatch.setattr(clients, "_clock", lambda: later)
    assert add() == 403


def test_a_key_revoked_in_this_process_is_refused_at_once(client, app):
    from feedback_app.services.clients import create_api_client, revoke_api_client

    with app.app_context():
        _, raw = create_api_client(name="soon-revoked", scopes=["intake"])
        db.session.commit()
    body = submit(client, headers={"X-API-Key": raw}).get_json()
    url = f"/api/v1/feedback/{body['tracking_code']}/messages"
    assert client.post(url, json={"message": "Bổ sung"}, headers={"X-API-Key": raw}).status_code == 201
    with app.app_context():
        revoke_api_client(name="soon-revoked")
        db.session.commit()
    assert client.post(url, json={"message": "Bổ sung"}, headers={"X-API-Key": raw}).status_code == 403


def test_public_feed_filters_and_caps_the_page(client):
    for i in range(3):
        submit(client, dict(ROAD_REPORT, description=f"{ROAD_REPORT['description']} lần {i}"))
    submit(client, dict(ROAD_REPORT, category="water", description="Nước sinh hoạt có mùi lạ mấy ngày nay."))
    page = client.get("/api/v1/feedback?page_size=2&category=traffic").get_json()
    assert page["pagination"] == {"page": 1, "page_size": 2, "total": 3, "pages": 2}
    assert len(page["items"]) == 2
    assert client.get("/api/v1/feedback?area=256").get_json()["pagination"]["total"] == 4
    assert client.get("/api/v1/feedback?area=261").get_json()["pagination"]["total"] == 0
    assert client.get("/api/v1/feedback?page_size=101").status_code == 422
    assert client.get("/api/v1/feedback?colour=red").status_code == 422
    feed_text = json.dumps(client.get("/api/v1/feedback").get_json(), ensure_ascii=False)
    for secret in PERSONAL:
        assert secret not in feed_text


def test_a_failure_mid_submission_leaves_nothing_half_written(client, app, monkeypatch):
    from feedback_app.services import intake

    def broken(item):
        raise RuntimeError("routing exploded")

    monkeypatch.setattr(intake, "route_item", broken)
    response = submit(client)
    assert response.status_code == 500
    assert set(response.get_json()) == {"code", "status", "message", "errors"}
    with app.app_context():
        for model in (FeedbackItem, ItemEvent, OutboxMessage, ItemContact):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_submissions_are_rate_limited_per_citizen(client, app, api_key):
    app.config["RATELIMIT_SUBMIT"] = "2 per minute"
    try:
        env = {"REMOTE_ADDR": "203.0.113.9"}
        codes = [submit(client, environ_base=env).status_code for _ in range(3)]
        assert codes == [201, 201, 429]
        limited = submit(client, environ_base=env)
        assert limited.status_code == 429 and set(limited.get_json()) == {"code", "status", "message", "errors"}
        # One backend serving many citizens: each forwarded device has its own budget.
        backend = {"REMOTE_ADDR": "198.51.100.7"}
        for device in ("device-a", "device-b"):
            for _ in range(2):
                response = submit(client, environ_base=backend, headers={"X-API-Key": api_key, "X-Device-Id": device})
                assert response.status_code == 201
    finally:
        app.config["RATELIMIT_SUBMIT"] = "10000 per minute"


def test_a_tracking_code_clash_is_retried_with_a_new_code(client, app, monkeypatch):
    from feedback_app.services import intake

    first = submit(client).get_json()
    codes = iter([first["tracking_code"], "ZZZZ2345"])
    monkeypatch.setattr(intake, "new_tracking_code", lambda: next(codes))
    second = submit(client)
    assert second.status_code == 201 and second.get_json()["tracking_code"] == "ZZZZ2345"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 2


def test_the_hand_dump_of_a_created_answer_equals_the_schema(app):
    import uuid
    from datetime import datetime, timezone

    from feedback_app.resources.feedback.schemas import FeedbackCreatedSchema, dump_created

    ref = {"code": "roads", "name_vi": "Giao thông, đường sá", "name_en": "Roads"}
    for due_at, category, agency in ((datetime(2026, 11, 27, 9, 30, 12, 345678, tzinfo=timezone.utc), ref, ref),
                                     (None, None, None)):
        answer = {
            "id": uuid.uuid4(), "tracking_code": "ABCD2345", "citizen_token": "secret", "status": "routed",
            "category": category, "agency": agency, "due_at": due_at,
            "created_at": datetime(2026, 11, 22, 16, 59, 59, 999999, tzinfo=timezone.utc),
            "links": {"self": "/api/v1/feedback/ABCD2345", "messages": "/api/v1/feedback/ABCD2345/messages"},
        }
        assert dump_created(answer) == FeedbackCreatedSchema().dump(answer)
