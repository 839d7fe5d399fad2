"""POST requests goes through the native intake: classification, routing, clocks, outbox, idempotency, limits."""
from __future__ import annotations

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Attachment, FeedbackItem, ItemContact, ItemEvent, OutboxMessage
from tests.factories import file_part, png_bytes
from tests.open311.conftest import BASE, WATER_REPORT, submit


def stored(app, code: str):
    with app.app_context():
        item = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == code))
        contact = db.session.get(ItemContact, item.id)
        events = db.session.scalars(
            sa.select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id)).all()
        outbox = db.session.scalars(sa.select(OutboxMessage.topic).where(
            OutboxMessage.job_key == f"item.received:{item.id}")).all()
        db.session.expunge_all()
        return item, contact, events, outbox


def test_a_submission_is_an_item_like_any_other(client, app, open311_key):
    created = submit(client, open311_key).get_json()[0]
    item, contact, events, outbox = stored(app, created["service_request_id"])
    assert item.channel == "open311" and item.client_id is not None
    assert item.status == "routed" and item.agency_id is not None and item.due_at is not None
    assert item.area_id is not None and item.area_source == "address"
    assert outbox == []  # no citizen app webhook is set: nobody is to hear of item.received, so it is not written
    # Vietnamese order: family name first.
    assert (contact.name, contact.phone, contact.email) == ("Nguyễn Văn Thử", "0912 345 678", "thu.nguyen@example.com")
    assert [e.kind for e in events][0] == "received" and events[0].data["channel"] == "open311"
    details = next(e for e in events if e.kind == "open311_request")
    assert details.public is False and details.data["attributes"] == {"water_issue": "blocked_drain"}
    assert "Vấn đề gặp phải: Cống, rãnh bị tắc" in details.message
    assert item.consent_public is True  # GeoReport v2 publishes descriptions (OPEN311_CONSENT_PUBLIC)


def test_a_multivaluelist_takes_one_parameter_per_value(client, app, open311_key):
    fields = {**WATER_REPORT, "service_code": "ENV", "attribute[pollution_type][]": ["garbage", "odor"],
              "attribute[source_type]": "factory", "api_key": open311_key}
    fields.pop("attribute[water_issue]")
    response = client.post(f"{BASE}/requests.json", data=fields)
    assert response.status_code == 201, response.get_json()
    _, _, events, _ = stored(app, response.get_json()[0]["service_request_id"])
    details = next(e for e in events if e.kind == "open311_request")
    assert details.data["attributes"] == {"pollution_type": ["garbage", "odor"], "source_type": "factory"}
    assert "Loại ô nhiễm: Rác thải, Mùi hôi" in details.message


def test_attributes_are_checked_against_the_definition(client, app, open311_key):
    without = dict(WATER_REPORT, api_key=open311_key)
    without.pop("attribute[water_issue]")
    cases = [
        (without, "attribute[water_issue]"),
        ({**WATER_REPORT, "api_key": open311_key, "attribute[water_issue]": "volcano"}, "attribute[water_issue]"),
        ({**WATER_REPORT, "api_key": open311_key, "attribute[colour]": "blue"}, "attribute[colour]"),
        ({**WATER_REPORT, "api_key": open311_key, "attribute[water_issue]": ["bill", "manhole"]},
         "attribute[water_issue]"),
    ]
    for fields, name in cases:
        response = client.post(f"{BASE}/requests.json", data=fields)
        assert response.status_code == 400, fields
        assert any(e["description"].startswith(f"{name}:") for e in response.get_json())
    health = {**WATER_REPORT, "service_code": "HEALTH", "api_key": open311_key, "attribute[people_affected]": "many"}
    health.pop("attribute[water_issue]")
    assert client.post(f"{BASE}/requests.json", data=health).status_code == 400
    assert client.post(f"{BASE}/requests.json", data={**health, "attribute[people_affected]": "nan"}).status_code == 400
    assert client.post(f"{BASE}/requests.json", data={**health, "attribute[people_affected]": "12"}).status_code == 201
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 1


def test_location_by_point_or_area_code_and_a_missing_one(client, app, open311_key):
    point = submit(client, open311_key, address_string="", lat="21.1861", long="106.0763")
    assert point.status_code == 201
    item, *_ = stored(app, point.get_json()[0]["service_request_id"])
    assert (item.lat, item.lon, item.area_source) == (21.1861, 106.0763, "point")
    by_area = submit(client, open311_key, address_string="", address_id="09184")
    item, *_ = stored(app, by_area.get_json()[0]["service_request_id"])
    assert item.area_source == "citizen"
    unknown_area = submit(client, open311_key, address_string="", address_id="99999")
    assert unknown_area.status_code == 400
    nowhere = submit(client, open311_key, address_string="")
    assert nowhere.status_code == 400 and any(e["description"].startswith("location:") for e in nowhere.get_json())
    half = submit(client, open311_key, lat="21.18")
    assert half.status_code == 400


def test_no_description_still_gives_staff_a_sentence(client, app, open311_key):
    response = submit(client, open311_key, description="")
    assert response.status_code == 201
    item, *_ = stored(app, response.get_json()[0]["service_request_id"])
    assert item.description == "Phản ánh về Cấp thoát nước"


def test_media_url_is_kept_for_staff_and_shown_with_consent(client, app, open311_key):
    response = submit(client, open311_key, media_url="https://photos.example.org/cong-tac.jpg")
    code = response.get_json()[0]["service_request_id"]
    _, _, events, _ = stored(app, code)
    assert next(e for e in events if e.kind == "open311_request").data["media_url"] == "https://photos.example.org/cong-tac.jpg"
    assert client.get(f"{BASE}/requests/{code}.json").get_json()[0]["media_url"] == "https://photos.example.org/cong-tac.jpg"
    assert submit(client, open311_key, media_url="javascript:alert(1)").status_code == 400


def test_a_photo_in_multipart_becomes_a_public_attachment(client, app, open311_key):
    response = client.post(f"{BASE}/requests.json", content_type="multipart/form-data",
                           data={**WATER_REPORT, "api_key": open311_key, "media": [file_part(png_bytes(), "cong.png")]})
    assert response.status_code == 201, response.get_json()
    code = response.get_json()[0]["service_request_id"]
    with app.app_context():
        attachment_id = db.session.scalar(sa.select(Attachment.id))
    media_url = client.get(f"{BASE}/requests/{code}.json").get_json()[0]["media_url"]
    assert media_url == f"http://localhost/api/v1/feedback/{code}/attachments/{attachment_id}"
    assert client.get(media_url.removeprefix("http://localhost")).data == png_bytes()


def test_unknown_fields_are_refused_and_the_spec_fields_are_all_accepted(client, open311_key):
    refused = submit(client, open311_key, title="not a GeoReport field")
    assert refused.status_code == 400 and any(e["description"].startswith("title:") for e in refused.get_json())
    every = submit(client, open311_key, jurisdiction_id="bacninh.gov.vn", lat="21.1861", long="106.0763",
                   account_id="acc-9", media_url="https://photos.example.org/x.jpg")
    assert every.status_code == 201 and every.get_json()[0]["account_id"] == "acc-9"


def test_idempotency_key_replays_the_first_answer_in_its_format(client, app, open311_key):
    first = submit(client, open311_key, "xml", headers={"Idempotency-Key": "o311-1"})
    again = submit(client, open311_key, "xml", headers={"Idempotency-Key": "o311-1"})
    assert first.status_code == again.status_code == 201
    assert again.data == first.data and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Content-Type"] == "text/xml; charset=utf-8"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 1


def test_submissions_are_rate_limited_per_device(client, app, open311_key):
    app.config["RATELIMIT_SUBMIT"] = "2 per minute"
    try:
        assert [submit(client, open311_key).status_code for _ in range(2)] == [201, 201]
        limited = submit(client, open311_key)
        assert limited.status_code == 400 and limited.get_json()[0]["code"] == 429
        assert limited.headers.get("Retry-After")
        assert submit(client, open311_key, device_id="device-2").status_code == 201
    finally:
        app.config["RATELIMIT_SUBMIT"] = "10000 per minute"
