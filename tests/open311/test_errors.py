"""Errors as the spec says: a list of code and description, in the path's format; 404, 403 for the key, else 400."""
from __future__ import annotations

import pytest

from tests.open311.conftest import BASE, ERROR_FIELDS, WATER_REPORT, parse, submit


def errors_of(response, fmt: str, status: int) -> list[dict]:
    assert response.status_code == status, response.get_data(as_text=True)
    errors = parse(response, fmt, "errors")
    assert errors and all(list(error) == ERROR_FIELDS for error in errors)
    if fmt == "json":
        assert all(isinstance(error["code"], int) and error["description"] for error in errors)
    return errors


@pytest.fixture
def revoked_key(app):
    from feedback_app.extensions import db
    from feedback_app.services.clients import create_api_client, revoke_api_client

    with app.app_context():
        _, raw = create_api_client(name="old-app", scopes=["open311"])
        revoke_api_client(name="old-app")
        db.session.commit()
    return raw


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_missing_bad_revoked_or_wrong_scope_key_is_403(client, fmt, revoked_key, intake_key):
    def post(**extra):
        return client.post(f"{BASE}/requests.{fmt}", data={**WATER_REPORT, **extra})

    for response in (post(), post(api_key="pak_not-a-key"), post(api_key=revoked_key), post(api_key=intake_key),
                     client.post(f"{BASE}/requests.{fmt}", data=WATER_REPORT, headers={"X-API-Key": intake_key})):
        errors = errors_of(response, fmt, 403)
        assert errors[0]["code"] in (403, "403") and "api_key" in errors[0]["description"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_key_may_come_in_the_query_string_or_the_header(client, fmt, open311_key):
    fields = {k: v for k, v in WATER_REPORT.items()}
    assert client.post(f"{BASE}/requests.{fmt}?api_key={open311_key}", data=fields).status_code == 201
    assert client.post(f"{BASE}/requests.{fmt}", data=fields, headers={"X-API-Key": open311_key}).status_code == 201


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize("path", [
    "services/NOPE", "requests/NOSUCHID", "tokens/not-a-uuid", "tokens/7c0b7f9e-9a8e-4e8b-9d7e-0c1f2a3b4c5d",
    "no/such/resource", "services",
])
def test_what_does_not_exist_is_404(client, fmt, path):
    query = "?jurisdiction_id=hanoi.gov.vn" if path == "services" else ""
    errors = errors_of(client.get(f"{BASE}/{path}.{fmt}{query}"), fmt, 404)
    assert str(errors[0]["code"]) == "404"


def test_an_unknown_format_or_no_format_is_404_in_xml(client):
    for path in ("services.csv", "services", "requests.html"):
        errors_of(client.get(f"{BASE}/{path}"), "xml", 404)


def test_the_jurisdiction_is_checked_on_every_method(client, open311_key):
    assert client.get(f"{BASE}/services.json?jurisdiction_id=bacninh.gov.vn").status_code == 200
    wrong = submit(client, open311_key, jurisdiction_id="hanoi.gov.vn")
    assert "jurisdiction_id" in errors_of(wrong, "json", 404)[0]["description"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_service_code_is_404_and_a_missing_one_400(client, fmt, open311_key):
    errors_of(submit(client, open311_key, fmt, service_code="NOPE"), fmt, 404)
    errors = errors_of(submit(client, open311_key, fmt, service_code=""), fmt, 400)
    assert any(e["description"].startswith("service_code:") for e in errors)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_other_refusals_are_400_and_keep_their_own_code(client, app, fmt, open311_key):
    wrong_method = client.put(f"{BASE}/requests.{fmt}")
    assert str(errors_of(wrong_method, fmt, 400)[0]["code"]) == "405"
    assert set(wrong_method.headers["Allow"].split(", ")) >= {"GET", "POST"}
    as_json = client.post(f"{BASE}/requests.{fmt}", json=WATER_REPORT, headers={"X-API-Key": open311_key})
    assert str(errors_of(as_json, fmt, 400)[0]["code"]) == "415"
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        too_large = submit(client, open311_key, fmt, description="x" * 3000)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 52 * 1024 * 1024
    assert str(errors_of(too_large, fmt, 400)[0]["code"]) == "413"


def test_descriptions_follow_accept_language(client, open311_key):
    english = submit(client, open311_key, service_code="NOPE", headers={"Accept-Language": "en"}).get_json()
    assert english[0]["description"] == "No service with service_code 'NOPE'."


def test_a_server_fault_keeps_its_5xx_in_the_spec_shape(client, monkeypatch):
    from feedback_app.services import open311

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(open311, "service_list", broken)
    errors = errors_of(client.get(f"{BASE}/services.xml"), "xml", 500)
    assert errors[0]["code"] == "500" and "database" not in errors[0]["description"]


def test_the_native_api_keeps_its_own_error_shape(client):
    body = client.get("/api/v1/feedback/NOSUCHID").get_json()
    assert body["code"] == 404 and set(body) == {"code", "status", "message", "errors"}
