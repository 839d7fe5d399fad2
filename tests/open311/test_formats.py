"""Every GeoReport v2 endpoint in XML and JSON: the spec's field lists, the same data in both formats."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Field
from tests.open311.conftest import (
    ATTRIBUTE_FIELDS,
    BASE,
    CREATED_FIELDS,
    DEFINITION_FIELDS,
    DISCOVERY_FIELDS,
    ENDPOINT_FIELDS,
    REQUEST_FIELDS,
    SERVICE_FIELDS,
    TOKEN_FIELDS,
    VALUE_FIELDS,
    W3C,
    as_xml_text,
    both,
    parse,
    submit,
)


def test_discovery(client):
    document = both(client, "discovery", "discovery")
    assert list(document) == DISCOVERY_FIELDS
    [endpoint] = document["endpoints"]
    assert list(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] in ("production", "test")
    assert W3C.match(document["changeset"]) and endpoint["changeset"] == document["changeset"]


def test_service_list_is_every_active_field_of_the_directory(client, app):
    services = both(client, "services", "services")
    with app.app_context():
        fields = db.session.scalars(sa.select(Field).where(Field.active.is_(True)).order_by(Field.id)).all()
        expected = {f.service_code: f for f in fields}
    assert [s["service_code"] for s in services] == list(expected)
    for service in services:
        assert list(service) == SERVICE_FIELDS
        field = expected[service["service_code"]]
        assert service["service_name"] == field.name_vi and service["group"] == field.group_vi
        assert service["description"] == field.description_vi
        assert service["keywords"] == ", ".join(field.keywords)
        assert service["metadata"] is bool(field.attributes) and service["type"] == "realtime"
    assert {s["service_code"] for s in services if s["metadata"]} >= {"ENV", "WATER", "ORDER", "HEALTH"}


def test_english_names_follow_accept_language(client):
    services = both(client, "services", "services", headers={"Accept-Language": "en"})
    water = next(s for s in services if s["service_code"] == "WATER")
    assert water["service_name"] == "Water supply and drainage" and water["group"] == "Infrastructure"


@pytest.mark.parametrize("service_code", ["ENV", "WATER", "ORDER", "HEALTH", "POWER", "LAND"])
def test_service_definition_carries_every_attribute_field(client, service_code):
    definition = both(client, f"services/{service_code}", "service_definition")
    assert list(definition) == DEFINITION_FIELDS and definition["service_code"] == service_code
    orders = [a["order"] for a in definition["attributes"]]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    for attribute in definition["attributes"]:
        assert list(attribute) == ATTRIBUTE_FIELDS
        assert attribute["datatype"] in ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
        for value in attribute["values"]:
            assert list(value) == VALUE_FIELDS
        assert bool(attribute["values"]) == (attribute["datatype"] in ("singlevaluelist", "multivaluelist"))


def test_definitions_say_what_the_directory_declares(client):
    water = both(client, "services/WATER", "service_definition")["attributes"]
    assert [(a["code"], a["datatype"], a["required"], a["variable"]) for a in water] == [
        ("water_issue", "singlevaluelist", True, True), ("customer_code", "string", False, True)]
    assert {"key": "blocked_drain", "name": "Cống, rãnh bị tắc"} in water[0]["values"]
    notice = both(client, "services/ORDER", "service_definition")["attributes"][0]
    assert notice["variable"] is False and "113" in notice["description"]
    assert both(client, "services/LAND", "service_definition")["attributes"] == []


def test_post_answers_in_both_formats(client, open311_key):
    for fmt in ("xml", "json"):
        response = submit(client, open311_key, fmt)
        assert response.status_code == 201, response.get_data(as_text=True)
        [created] = parse(response, fmt, "service_requests")
        assert list(created) == CREATED_FIELDS
        assert response.headers["Location"] == f"{BASE}/requests/{created['service_request_id']}.{fmt}"
        assert created["service_notice"]
        assert "token" not in created  # the spec: no token when the id is returned


def test_one_request_and_the_list_carry_every_field(client, open311_key):
    created = submit(client, open311_key).get_json()[0]
    [one] = both(client, f"requests/{created['service_request_id']}", "service_requests")
    assert list(one) == REQUEST_FIELDS
    listed = both(client, "requests", "service_requests")
    assert listed == [one]
    assert one["status"] == "open" and one["service_code"] == "WATER" and one["service_name"] == "Cấp thoát nước"
    assert one["agency_responsible"] == "Công ty Cổ phần Nước sạch Bắc Ninh"
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(one[name]), (name, one[name])
    assert one["expected_datetime"] > one["requested_datetime"]
    assert one["address"] == "ngõ 5 Nguyễn Văn Cừ, phường Tiền Ninh Vệ, TP Bắc Ninh"
    assert one["address_id"] == "09184"


def test_token_names_the_request(client, app, open311_key):
    from feedback_app.models import FeedbackItem

    created = submit(client, open311_key).get_json()[0]
    with app.app_context():
        item_id = str(db.session.scalar(sa.select(FeedbackItem.id)))
    [answer] = both(client, f"tokens/{item_id}", "service_requests")
    assert list(answer) == TOKEN_FIELDS
    assert answer == {"service_request_id": created["service_request_id"], "token": item_id}


def test_numbers_and_empty_values_read_the_same_in_both_formats(client, open311_key):
    created = submit(client, open311_key, lat="21.1861", long="106.0763", address_string="").get_json()[0]
    [one] = both(client, f"requests/{created['service_request_id']}", "service_requests")
    assert one["lat"] == 21.1861 and one["long"] == 106.0763  # JSON numbers; "21.1861" as XML text
    assert one["zipcode"] is None and as_xml_text(one)["zipcode"] is None


def test_characters_xml_cannot_carry_leave_both_formats_alike(client, open311_key):
    created = submit(client, open311_key, description="Cống tắc\x07 ở đầu ngõ\x1b, nước tràn lên đường.").get_json()[0]
    [one] = both(client, f"requests/{created['service_request_id']}", "service_requests")
    assert one["description"] == "Cống tắc ở đầu ngõ, nước tràn lên đường."
