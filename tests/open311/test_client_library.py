"""A published Open311 client, georeport 0.3.1 from PyPI, unmodified, against the app served by a real gunicorn.

georeport reads (services, definitions, requests) in JSON and XML but has no method to create a request, so
the request it reads is created by a plain form POST shaped like the spec's own example request.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
import requests
from georeport import GeoReport

from tests.e2e.conftest import gunicorn_server

JURISDICTION = "bacninh.gov.vn"


@pytest.fixture
def server(app):
    with gunicorn_server(app, redis_url=app.config["REDIS_URL"], workers=1) as base:
        yield f"{base}/open311/v2"


def form_post(url: str, fields: list[tuple[str, str]]) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers["Content-Type"]


def test_georeport_reads_what_a_form_post_created(server, open311_key):
    status, body, _ = form_post(f"{server}/requests.json", [
        ("api_key", open311_key), ("jurisdiction_id", JURISDICTION), ("service_code", "ENV"),
        ("lat", "21.1861"), ("long", "106.0763"), ("address_string", "đường Lý Thái Tổ, phường Suối Hoa"),
        ("device_id", "tt222111"), ("account_id", "123456"), ("first_name", "An"), ("last_name", "Lê"),
        ("description", "Bãi rác tự phát cạnh hồ, bốc mùi hôi cả khu phố."),
        ("attribute[pollution_type][]", "garbage"), ("attribute[pollution_type][]", "odor"),
        ("attribute[source_type]", "household"),
    ])
    assert status == 201, body
    code = json.loads(body)[0]["service_request_id"]

    for fmt in ("json", "xml"):
        client = GeoReport(server, jurisdiction=JURISDICTION, output_format=fmt)
        services = client.get_service_list()
        assert {"ENV", "WATER", "LAND"} <= {s["service_code"] for s in services}
        definition = client.get_service_definition("ENV")
        attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
        assert [a["code"] for a in attributes] == ["pollution_type", "source_type"]

        one = client.get_service_request(code)
        assert (one["service_request_id"], one["status"], one["service_code"]) == (code, "open", "ENV")
        assert one["description"] == "Bãi rác tự phát cạnh hồ, bốc mùi hôi cả khu phố."
        assert one["requested_datetime"].endswith("+07:00")
        listed = client.get_service_requests(service_code="ENV", status="open")
        listed = listed if isinstance(listed, list) else [listed]  # xmltodict gives one element as a dict
        assert [r["service_request_id"] for r in listed] == [code]
        by_id = client.get_service_requests(service_request_id=code)
        assert (by_id[0] if isinstance(by_id, list) else by_id)["service_request_id"] == code

        with pytest.raises(requests.HTTPError) as missing:
            client.get_service_request("NOSUCHID")
        assert missing.value.response.status_code == 404
        with pytest.raises(requests.HTTPError) as elsewhere:
            GeoReport(server, jurisdiction="hanoi.gov.vn", output_format=fmt).get_service_list()
        assert elsewhere.value.response.status_code == 404


def test_a_form_post_without_a_key_is_403_in_the_spec_shape(server):
    status, body, content_type = form_post(f"{server}/requests.xml", [("service_code", "ENV"), ("lat", "21.18"),
                                                                         ("long", "106.07")])
    assert status == 403 and content_type == "text/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<errors><error><code>403</code>')
