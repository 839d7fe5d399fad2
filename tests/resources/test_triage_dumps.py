"""The triage answers are dumped by hand (`dump_queue_page`, `dump_detail`, `dump_action_result`); the schemas
still document them. Each hand dump must say exactly what its schema's dump says, and the HTTP answers must be
the bytes flask-smorest wrote from the schema's dump."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from feedback_app.resources.triage.schemas import (
    ActionResultSchema,
    ItemDetailSchema,
    QueuePageSchema,
    dump_action_result,
    dump_detail,
    dump_queue_page,
)
from tests.factories import file_part, png_bytes
from tests.resources.test_triage_story import SUBMISSION, act

UTC = timezone.utc
ROAD = {"code": "traffic", "name_vi": "Giao thông, đường sá", "name_en": "Roads"}
AGENCY = {"code": "UBND-TPBN", "name_vi": "UBND thành phố Bắc Ninh", "name_en": None}
WARD = {"code": "27097", "name_vi": "Phường Suối Hoa", "name_en": "Suoi Hoa Ward"}
# Instants on both sides of a Vietnamese midnight, with and without microseconds, in UTC and in other offsets.
INSTANTS = [
    datetime(2026, 11, 22, 16, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 11, 22, 17, 0, 0, tzinfo=UTC),
    datetime(2027, 1, 1, 6, 30, 12, 345678, tzinfo=timezone(timedelta(hours=9))),
    datetime(2026, 3, 8, 23, 15, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]


def queue_item(n: int, **changes) -> dict:
    item = {
        "id": uuid.uuid4(), "tracking_code": f"ABCD{2345 + n}", "status": "routed", "version": n + 1,
        "title": "Ổ gà trên đường Lý Thái Tổ", "description": "Đường Lý Thái Tổ có ổ gà rất sâu " * 3,
        "category": ROAD, "agency": AGENCY, "area": WARD,
        "created_at": INSTANTS[n % 4], "due_at": INSTANTS[(n + 1) % 4], "overdue": n % 2 == 0,
        "assigned_to": 7, "sent_back": n % 3 == 0, "predicted_category": "traffic", "prediction_probability": 0.8731,
    }
    return {**item, **changes}


NONES = dict(title=None, category=None, agency=None, area=None, due_at=None, assigned_to=None,
             predicted_category=None, prediction_probability=None)


def detail_item(n: int, **changes) -> dict:
    item = {
        **queue_item(n), "etag": f'"{uuid.uuid4()}-{n + 1}"', "address": "12 Lý Thái Tổ", "lat": 21.1861, "lon": 106.0763,
        "language": "vi", "channel": "web", "priority": "normal", "anonymous": False, "consent_public": True,
        "model_version": "tfidf-2026-11", "routed_by": "model", "answer": "Đã vá ổ gà.", "rating": 4,
        "rating_comment": "Nhanh", "rejection_reason": "spam", "merged_into": "WXYZ2345",
        "contact": {"name": "Nguyễn Văn Thử", "phone": "0912 345 678", "email": "thu@example.com"},
        "timeline": [
            {"id": 1, "kind": "received", "from_status": None, "to_status": "needs_triage", "actor_kind": "citizen",
             "actor_id": None, "public": True, "message": None, "data": {}, "at": INSTANTS[0]},
            {"id": 2, "kind": "routed", "from_status": "needs_triage", "to_status": "routed", "actor_kind": "staff",
             "actor_id": "12", "public": True, "message": "Chuyển UBND thành phố",
             "data": {"agency": "UBND-TPBN", "sla": {"days": 10, "calendar": ["2026-11-23"]}, "score": 0.5},
             "at": INSTANTS[2]},
            {"id": 3, "kind": "contact_viewed", "from_status": None, "to_status": None, "actor_kind": "staff",
             "actor_id": "12", "public": False, "message": None, "data": None, "at": INSTANTS[3]},
        ],
        "attachments": [
            {"id": uuid.uuid4(), "content_type": "image/png", "size": 68, "uploaded_by": "citizen", "public": True,
             "created_at": INSTANTS[1]},
            {"id": uuid.uuid4(), "content_type": "video/mp4", "size": 1_048_576, "uploaded_by": "staff",
             "public": False, "created_at": INSTANTS[2]},
        ],
        "duplicates": [
            {"id": uuid.uuid4(), "tracking_code": "EFGH2345", "status": "in_progress", "score": 0.912,
             "created_at": INSTANTS[3]},
            {"id": uuid.uuid4(), "tracking_code": "JKLM2345", "status": "closed", "score": 0.8, "created_at": INSTANTS[0]},
        ],
        "legal_actions": ["accept", "note", "send_back"],
    }
    return {**item, **changes}


DETAIL_NONES = dict(NONES, address=None, lat=None, lon=None, model_version=None, routed_by=None, answer=None,
                    rating=None, rating_comment=None, rejection_reason=None, merged_into=None, contact=None)


@pytest.mark.parametrize("items", [
    [],
    [queue_item(0)],
    [queue_item(n) for n in range(4)] + [queue_item(4, **NONES), queue_item(5, prediction_probability=0.0,
                                                                            version=1, overdue=True)],
], ids=["empty", "one", "varied"])
def test_the_hand_dump_of_a_queue_page_equals_the_schema(items):
    page = {"items": items, "pagination": {"page": 3, "page_size": 20, "total": 41 + len(items), "pages": 3}}
    assert dump_queue_page(page) == QueuePageSchema().dump(page)
    assert list(dump_queue_page(page)) == list(QueuePageSchema().dump(page))
    for hand, schema in zip(dump_queue_page(page)["items"], QueuePageSchema().dump(page)["items"], strict=True):
        assert list(hand) == list(schema)  # the same keys, in the same order


@pytest.mark.parametrize("changes", [
    {},
    DETAIL_NONES,
    dict(contact={"name": None, "phone": "0912 345 678", "email": None}, timeline=[], attachments=[], duplicates=[],
         legal_actions=[]),
    dict(status="closed", merged_into="WXYZ2345", anonymous=True, consent_public=False, rating=1, lat=-0.5, lon=0.0),
], ids=["everything", "nones", "empty-lists", "merged"])
def test_the_hand_dump_of_an_item_detail_equals_the_schema(changes):
    for n in range(4):  # each instant in each datetime field
        item = detail_item(n, **changes)
        hand, schema = dump_detail(item), ItemDetailSchema().dump(item)
        assert hand == schema
        assert list(hand) == list(schema)
        for key in ("timeline", "attachments", "duplicates"):
            assert [list(e) for e in hand[key]] == [list(e) for e in schema[key]]
        result = {"event_id": 42, "action": "accept", "item": item}
        assert dump_action_result(result) == ActionResultSchema().dump(result)


def test_datetimes_are_shown_in_vietnam_with_their_offset():
    item = detail_item(0, due_at=INSTANTS[1])
    hand = dump_detail(item)
    assert hand["created_at"] == "2026-11-22T23:59:59+07:00" and hand["due_at"] == "2026-11-23T00:00:00+07:00"
    assert hand["timeline"][1]["at"] == "2027-01-01T04:30:12+07:00"
    assert hand["duplicates"][0]["created_at"] == "2026-03-09T11:45:00+07:00"


@pytest.fixture
def answered(monkeypatch):
    """What the triage services gave each view, in order: the views' answers are checked against the schemas'
    dumps of exactly these (a second read would record another contact_viewed event)."""
    from feedback_app.services import actions, triage

    seen = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            value = real(*args, **kwargs)
            seen.append((name, value))
            return value

        monkeypatch.setattr(module, name, wrapper)

    spy(triage, "list_queue")
    spy(triage, "detail")
    spy(actions, "perform_action")
    return seen


def schema_bytes(app, schema, value) -> bytes:
    """The body flask-smorest wrote for `value` under `@blp.response(200, schema)` before the hand dumps."""
    with app.app_context():
        return app.json.response(schema().dump(value)).get_data()


def check_queue(client, app, answered, headers, query=""):
    response = client.get(f"/api/v1/triage/items{query}", headers=headers)
    assert response.status_code == 200
    name, page = answered.pop()
    assert name == "list_queue"
    assert response.get_data() == schema_bytes(app, QueuePageSchema, page)
    return response.get_json()


def check_detail(client, app, answered, headers, item_id):
    response = client.get(f"/api/v1/triage/items/{item_id}", headers=headers)
    assert response.status_code == 200
    name, body = answered.pop()
    assert name == "detail"
    assert response.get_data() == schema_bytes(app, ItemDetailSchema, body)
    assert response.headers["ETag"] == body["etag"]
    return response.get_json()


def check_action(client, app, answered, headers, item_id, action):
    response = act(client, headers, item_id, action)
    assert response.status_code == 200, response.get_json()
    (_, detail), (name, result) = answered.pop(), answered.pop()
    assert name == "perform_action"
    assert response.get_data() == schema_bytes(app, ActionResultSchema, {**result, "item": detail})
    answered.clear()  # the detail `act` read for its ETag
    return response.get_json()


def test_the_triage_answers_are_the_bytes_of_the_schemas_dumps(client, app, make_staff, answered):
    from feedback_app.extensions import db
    from feedback_app.models import FeedbackItem

    coordinator = make_staff("desk.dump", "coordinator")
    officer = make_staff("nuoc.dump", "officer", "NSBN")
    first = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water"}).get_json()
    second = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water", "title": "Cống tắc ngõ 5",
                                                    "description": SUBMISSION["description"] + " Đề nghị xử lý."},
                         ).get_json()
    anonymous = client.post("/api/v1/feedback", json={"description": "Đèn đường ở ngõ 7 tắt cả tuần nay rồi."}).get_json()
    with app.app_context():  # a model's guess on one item, none on the others
        db.session.execute(sa.update(FeedbackItem).where(FeedbackItem.tracking_code == second["tracking_code"])
                           .values(predicted_category="water", prediction_probability=0.6172, model_version="m-1"))
        db.session.commit()

    desk = check_queue(client, app, answered, coordinator)
    assert {i["tracking_code"] for i in desk["items"]} == {anonymous["tracking_code"]}  # no agency, area, due_at
    lamp = desk["items"][0]["id"]
    check_detail(client, app, answered, coordinator, lamp)  # no contact, no attachments
    check_action(client, app, answered, coordinator, lamp, {"action": "route", "agency": "NSBN", "category": "water"})

    items = {i["tracking_code"]: i["id"] for i in check_queue(client, app, answered, officer, "?status=routed")["items"]}
    assert set(items) == {first["tracking_code"], second["tracking_code"], anonymous["tracking_code"]}
    check_queue(client, app, answered, officer, "?page=2&page_size=2")
    check_queue(client, app, answered, officer, "?q=ngõ&sent_back=false")

    twin = items[second["tracking_code"]]
    client.post(f"/api/v1/triage/items/{twin}/attachments", headers=officer,
                data={"files": [file_part(png_bytes(3, 3), "cong.png")]}, content_type="multipart/form-data")
    answered.clear()
    seen = check_detail(client, app, answered, officer, twin)
    assert seen["contact"]["phone"] and seen["attachments"] and seen["duplicates"]
    assert seen["predicted_category"] == "water" and seen["title"] == "Cống tắc ngõ 5"
    check_action(client, app, answered, officer, twin, {"action": "accept", "message": "Đã nhận."})
    check_action(client, app, answered, officer, twin, {"action": "note", "message": "Gọi lại cho người dân."})
    merged = check_action(client, app, answered, officer, twin, {"action": "merge", "duplicate_of": first["tracking_code"]})
    assert merged["item"]["merged_into"] == first["tracking_code"]
    check_action(client, app, answered, officer, items[anonymous["tracking_code"]],
                 {"action": "send_back", "message": "Không thuộc thẩm quyền."})
    check_queue(client, app, answered, coordinator, "?sent_back=true")
