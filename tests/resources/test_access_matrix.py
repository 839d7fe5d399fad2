"""The authorisation matrix: object level (agency A never reaches agency B), function level, property level."""
from __future__ import annotations

import pytest

from tests.factories import file_part, png_bytes

ROAD = {"description": "Đèn tín hiệu ngã tư Lý Thái Tổ - Ngô Gia Tự bị hỏng từ sáng, rất nguy hiểm.",
        "category": "traffic", "address": "phường Suối Hoa, TP Bắc Ninh",
        "contact": {"name": "Lê Văn Thử", "phone": "0911 222 333"}}


@pytest.fixture
def world(client, make_staff, api_key):
    """Agency A (TP Bắc Ninh committee) owns one item with a staff attachment; agency B (Từ Sơn) owns nothing here."""
    people = {
        "officer_a": make_staff("officer.a", "officer", "UBND-TPBN"),
        "agency_admin_a": make_staff("admin.a", "agency_admin", "UBND-TPBN"),
        "officer_b": make_staff("officer.b", "officer", "UBND-TPTS"),
        "agency_admin_b": make_staff("admin.b", "agency_admin", "UBND-TPTS"),
        "coordinator": make_staff("coord", "coordinator"),
        "manager": make_staff("manager", "manager"),
        "admin": make_staff("root", "admin"),
        "anonymous": {},
        "api_key": {"X-API-Key": api_key},
    }
    created = client.post("/api/v1/feedback", json=ROAD).get_json()
    people["citizen"] = {"X-Citizen-Token": created["citizen_token"]}
    item_id = created["id"]
    upload = client.post(f"/api/v1/triage/items/{item_id}/attachments", headers=people["officer_a"],
                         data={"files": [file_part(png_bytes(), "a.png")]}, content_type="multipart/form-data")
    attachment_id = upload.get_json()["attachments"][0]["id"]
    return {"people": people, "item": item_id, "attachment": attachment_id, "code": created["tracking_code"],
            "token": created["citizen_token"]}


def _etag(client, world):
    return client.get(f"/api/v1/triage/items/{world['item']}", headers=world["people"]["admin"]).headers["ETag"]


def call(client, world, route: str, who: str):
    headers = dict(world["people"][who])
    item, attachment = world["item"], world["attachment"]
    if route == "detail":
        return client.get(f"/api/v1/triage/items/{item}", headers=headers)
    if route == "note":
        headers["If-Match"] = _etag(client, world)
        return client.post(f"/api/v1/triage/items/{item}/actions", json={"action": "note", "message": "x"}, headers=headers)
    if route == "upload":
        return client.post(f"/api/v1/triage/items/{item}/attachments", headers=headers,
                           data={"files": [file_part(png_bytes(), "b.png")]}, content_type="multipart/form-data")
    if route == "download":
        return client.get(f"/api/v1/triage/attachments/{attachment}", headers=headers)
    if route == "queue":
        return client.get("/api/v1/triage/items", headers=headers)
    if route == "admin_users":
        return client.get("/api/v1/admin/users", headers=headers)
    if route == "admin_keys":
        return client.get("/api/v1/admin/apikeys", headers=headers)
    raise AssertionError(route)


# (route, who) -> expected status. Anonymous callers, API keys and citizens never reach a staff route.
EXPECTED = {
    "detail": {"officer_a": 200, "agency_admin_a": 200, "officer_b": 404, "agency_admin_b": 404,
               "coordinator": 200, "manager": 200, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
    "note": {"officer_a": 200, "agency_admin_a": 200, "officer_b": 404, "agency_admin_b": 404,
             "coordinator": 200, "manager": 403, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
    "upload": {"officer_a": 201, "agency_admin_a": 201, "officer_b": 404, "agency_admin_b": 404,
               "coordinator": 403, "manager": 403, "admin": 201, "anonymous": 401, "api_key": 401, "citizen": 401},
    "download": {"officer_a": 200, "agency_admin_a": 200, "officer_b": 404, "agency_admin_b": 404,
                 "coordinator": 200, "manager": 200, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
    "queue": {"officer_a": 200, "agency_admin_a": 200, "officer_b": 200, "agency_admin_b": 200,
              "coordinator": 200, "manager": 200, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
    "admin_users": {"officer_a": 403, "agency_admin_a": 403, "officer_b": 403, "agency_admin_b": 403,
                    "coordinator": 403, "manager": 403, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
    "admin_keys": {"officer_a": 403, "agency_admin_a": 403, "officer_b": 403, "agency_admin_b": 403,
                   "coordinator": 403, "manager": 403, "admin": 200, "anonymous": 401, "api_key": 401, "citizen": 401},
}
CASES = [(route, who, status) for route, row in EXPECTED.items() for who, status in row.items()]


@pytest.mark.parametrize("route, who, status", CASES, ids=[f"{r}-{w}" for r, w, _ in CASES])
def test_matrix(client, world, route, who, status):
    response = call(client, world, route, who)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status >= 400:
        assert set(response.get_json()) == {"code", "status", "message", "errors"}


def test_other_agencys_queue_never_lists_the_item(client, world):
    queue = client.get("/api/v1/triage/items", headers=world["people"]["officer_b"]).get_json()
    assert queue["pagination"]["total"] == 0
    queue = client.get("/api/v1/triage/items", headers=world["people"]["officer_a"]).get_json()
    assert [i["id"] for i in queue["items"]] == [world["item"]]


@pytest.mark.parametrize("action", ["accept", "request_info", "resolve", "reject", "send_back", "merge", "route"])
def test_other_agency_cannot_act_and_gets_404(client, world, action):
    headers = {**world["people"]["agency_admin_b"], "If-Match": _etag(client, world)}
    body = {"action": action, "message": "x", "reason": "spam", "agency": "UBND-TPTS", "duplicate_of": world["code"]}
    from feedback_app.resources.triage.schemas import ACTION_FIELDS

    required, optional = ACTION_FIELDS[action]
    body = {k: v for k, v in body.items() if k == "action" or k in required | optional}
    if action == "resolve":
        body.update(text="x", evidence_reason="y")
    response = client.post(f"/api/v1/triage/items/{world['item']}/actions", json=body, headers=headers)
    assert response.status_code in (403, 404)  # 403 only where the role may never take the action at all
    if action not in ("route",):
        assert response.status_code == 404


def test_contact_only_for_the_items_own_agency(client, world):
    for who, sees in (("officer_a", True), ("agency_admin_a", True), ("coordinator", False), ("manager", False),
                      ("admin", False)):
        detail = client.get(f"/api/v1/triage/items/{world['item']}", headers=world["people"][who]).get_json()
        assert (detail["contact"] is not None) is sees, who
        if not sees:
            assert "0911 222 333" not in str(detail)


def test_citizen_token_works_only_on_its_own_item(client, world):
    other = client.post("/api/v1/feedback", json=ROAD).get_json()
    wrong = client.post(f"/api/v1/feedback/{other['tracking_code']}/messages",
                        json={"message": "thêm", "citizen_token": world["token"]})
    assert wrong.status_code == 403
    right = client.post(f"/api/v1/feedback/{world['code']}/messages", json={"message": "thêm", "citizen_token": world["token"]})
    assert right.status_code == 201


@pytest.mark.parametrize("field", ["status", "agency_id", "version", "created_at", "due_at", "updated_at"])
def test_state_is_never_written_from_input(client, world, field):
    headers = {**world["people"]["officer_a"], "If-Match": _etag(client, world)}
    response = client.post(f"/api/v1/triage/items/{world['item']}/actions",
                           json={"action": "note", "message": "x", field: "resolved"}, headers=headers)
    assert response.status_code == 422 and field in response.get_json()["errors"]
    submission = client.post("/api/v1/feedback", json={**ROAD, field: "resolved"})
    assert submission.status_code == 422


def test_secure_headers_and_no_debug(client, app):
    response = client.get("/api/v1/categories")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert app.debug is False
    assert "Set-Cookie" not in response.headers  # bearer tokens, no cookies to steal
