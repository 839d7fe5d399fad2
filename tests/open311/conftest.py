"""Open311 fixtures: keys with and without the open311 scope, and readers of both formats of the spec."""
from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import pytest

BASE = "/open311/v2"
# The spec's field lists, in the spec's order.
DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
DEFINITION_FIELDS = ["service_code", "attributes"]
ATTRIBUTE_FIELDS = [
    "variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"]
VALUE_FIELDS = ["key", "name"]
CREATED_FIELDS = ["service_request_id", "service_notice", "account_id"]
TOKEN_FIELDS = ["service_request_id", "token"]
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]
ERROR_FIELDS = ["code", "description"]
# Plural elements that hold a list of singular ones (the Spark convention the spec's JSON follows).
LISTS = {"services", "service_requests", "attributes", "values", "endpoints", "formats", "errors"}
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")

WATER_REPORT = {
    "service_code": "WATER",
    "attribute[water_issue]": "blocked_drain",
    "address_string": "ngõ 5 Nguyễn Văn Cừ, phường Tiền Ninh Vệ, TP Bắc Ninh",
    "description": "Cống thoát nước đầu ngõ bị tắc, mưa xuống là ngập cả ngõ, nước bốc mùi.",
    "first_name": "Văn Thử",
    "last_name": "Nguyễn",
    "phone": "0912 345 678",
    "email": "thu.nguyen@example.com",
    "device_id": "device-1",
}
PERSONAL = ("0912 345 678", "thu.nguyen@example.com", "Nguyễn Văn Thử", "Văn Thử")


def _new_key(app, name: str, scopes: list[str]) -> str:
    from feedback_app.extensions import db
    from feedback_app.services.clients import create_api_client

    with app.app_context():
        _, raw = create_api_client(name=name, scopes=scopes)
        db.session.commit()
    return raw


@pytest.fixture
def open311_key(app) -> str:
    return _new_key(app, "civic-app", ["open311"])


@pytest.fixture
def intake_key(app) -> str:
    return _new_key(app, "mobile-backend", ["intake"])


def xml_data(element: ET.Element):
    """The JSON a GeoReport v2 XML element stands for: text stays text, an empty element is null."""
    if element.tag in LISTS:
        return [xml_data(child) for child in element]
    if len(element):
        return {child.tag: xml_data(child) for child in element}
    return element.text


def as_xml_text(value):
    """What a JSON value looks like once written as XML text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {key: as_xml_text(child) for key, child in value.items()}
    if isinstance(value, list):
        return [as_xml_text(child) for child in value]
    return None if value in (None, "") else str(value)  # an empty element is all XML has for ""


def both(client, path: str, root: str, status: int = 200, **kwargs):
    """GET path in XML and JSON; check the HTTP side of each and that both carry the same data; return the JSON."""
    answers = {}
    for fmt in ("xml", "json"):
        response = client.get(f"{BASE}/{path}.{fmt}", **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        answers[fmt] = parse(response, fmt, root)
    assert answers["xml"] == as_xml_text(answers["json"])
    return answers["json"]


def parse(response, fmt: str, root: str):
    text = response.get_data(as_text=True)
    if fmt == "json":
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(text)
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    element = ET.fromstring(text.encode("utf-8"))
    assert element.tag == root
    return xml_data(element)


def submit(client, key: str, fmt: str = "json", headers: dict | None = None, **fields):
    data = {"api_key": key, **WATER_REPORT, **fields}
    return client.post(f"{BASE}/requests.{fmt}", data=data, headers=headers)
