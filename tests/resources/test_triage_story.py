"""The life of an item through HTTP only: triage desk, agency, citizen, rating, reopening."""
from __future__ import annotations

import json

from tests.factories import file_part, png_bytes

SUBMISSION = {
    "description": "Cống thoát nước ở ngõ 5 phố Nguyễn Văn Cừ bị tắc, mưa xuống là ngập cả ngõ, nước bốc mùi hôi.",
    "address": "ngõ 5 Nguyễn Văn Cừ, phường Tiền Ninh Vệ, TP Bắc Ninh",
    "contact": {"name": "Trần Thị Thử", "phone": "0987 654 321"},
    "consent_public": True,
}


def act(client, headers, item_id, body, etag=None):
    if etag is None:
        etag = client.get(f"/api/v1/triage/items/{item_id}", headers=headers).headers["ETag"]
    return client.post(f"/api/v1/triage/items/{item_id}/actions", json=body, headers={**headers, "If-Match": etag})


def assert_tracking_answer_is_the_schemas_dump(client, app, code):
    """The tracking view is dumped by hand (`dump_public`); it must say exactly what PublicFeedbackSchema says."""
    from feedback_app.resources.feedback.schemas import PublicFeedbackSchema
    from feedback_app.services.citizen import find_item
    from feedback_app.services.public_view import public_view

    answer = client.get(f"/api/v1/feedback/{code}").get_json()
    with app.app_context():
        assert answer == json.loads(json.dumps(PublicFeedbackSchema().dump(public_view(find_item(code)))))
    return answer


def test_full_story(client, make_staff, app):
    coordinator = make_staff("desk", "coordinator")
    officer = make_staff("nuoc.officer", "officer", "NSBN")

    created = client.post("/api/v1/feedback", json=SUBMISSION).get_json()
    code, token = created["tracking_code"], created["citizen_token"]
    assert created["status"] == "needs_triage"  # no model and no category: the desk decides

    queue = client.get("/api/v1/triage/items", headers=coordinator).get_json()
    item_id = next(i["id"] for i in queue["items"] if i["tracking_code"] == code)
    assert client.get("/api/v1/triage/items", headers=officer).get_json()["pagination"]["total"] == 0

    routed = act(client, coordinator, item_id, {"action": "route", "agency": "NSBN", "category": "water"})
    assert routed.status_code == 200, routed.get_json()
    assert routed.get_json()["item"]["status"] == "routed"

    assert [i["tracking_code"] for i in client.get("/api/v1/triage/items", headers=officer).get_json()["items"]] == [code]
    detail = client.get(f"/api/v1/triage/items/{item_id}", headers=officer).get_json()
    assert detail["contact"]["phone"] == "0987 654 321"  # the item's own agency sees the contact
    assert "accept" in detail["legal_actions"] and "route" not in detail["legal_actions"]

    assert act(client, officer, item_id, {"action": "accept"}).get_json()["item"]["status"] == "in_progress"
    asked = act(client, officer, item_id, {"action": "request_info", "message": "Xin gửi ảnh vị trí cống bị tắc."})
    assert asked.get_json()["item"]["status"] == "waiting_citizen"

    reply = client.post(f"/api/v1/feedback/{code}/messages", data={
        "data": json.dumps({"message": "Ảnh cống ở đầu ngõ", "citizen_token": token}),
        "files": [file_part(png_bytes(), "cong.png")]}, content_type="multipart/form-data")
    assert reply.status_code == 201 and reply.get_json()["status"] == "in_progress"

    uploaded = client.post(f"/api/v1/triage/items/{item_id}/attachments", headers=officer,
                           data={"files": [file_part(png_bytes(3, 3), "sau-khi-nao-vet.png")]},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    evidence = uploaded.get_json()["attachments"][0]["id"]
    no_evidence = act(client, officer, item_id, {"action": "resolve", "text": "Đã nạo vét cống."})
    assert no_evidence.status_code == 422
    resolved = act(client, officer, item_id, {"action": "resolve", "text": "Công ty đã nạo vét cống ngày 20/11.",
                                                "attachment_ids": [evidence]})
    assert resolved.status_code == 200 and resolved.get_json()["item"]["status"] == "resolved", resolved.get_json()

    public = client.get(f"/api/v1/feedback/{code}").get_json()
    assert public["answer"] == "Công ty đã nạo vét cống ngày 20/11."
    assert evidence in [a["id"] for a in public["attachments"]]
    assert client.get(f"/api/v1/feedback/{code}/attachments/{evidence}").status_code == 200

    rated = client.post(f"/api/v1/feedback/{code}/rating", json={"rating": 1, "comment": "Vẫn còn ngập",
                                                                 "citizen_token": token})
    assert rated.status_code == 201 and rated.get_json()["status"] == "reopened"
    assert [i["tracking_code"] for i in client.get("/api/v1/triage/items", headers=officer).get_json()["items"]] == [code]

    assert act(client, officer, item_id, {"action": "accept"}).get_json()["item"]["status"] == "in_progress"
    again = act(client, officer, item_id, {"action": "resolve", "text": "Đã thay đoạn cống mới, hết ngập.",
                                             "evidence_reason": "Kiểm tra trực tiếp sau trận mưa ngày 22/11."})
    assert again.get_json()["item"]["status"] == "resolved"

    timeline = client.get(f"/api/v1/triage/items/{item_id}", headers=officer).get_json()["timeline"]
    statuses = [e["to_status"] for e in timeline if e["kind"] == "status"]
    assert statuses == ["needs_triage", "routed", "in_progress", "waiting_citizen", "in_progress", "resolved",
                        "reopened", "in_progress", "resolved"]
    assert all(e["at"] and e["actor_kind"] for e in timeline)
    assert {e["actor_kind"] for e in timeline} >= {"citizen", "staff", "system"}
    staff_steps = [e for e in timeline if e["actor_kind"] == "staff"]
    assert all(e["actor_id"] for e in staff_steps)
    assert any(e["kind"] == "contact_viewed" for e in timeline)  # the audit of reading the contact
    assert any(e["kind"] == "citizen_message" for e in timeline)

    public = assert_tracking_answer_is_the_schemas_dump(client, app, code)
    assert public["rating"] == 1 and len(public["attachments"]) == 2 and len(public["timeline"]) > 5
    assert {e["actor"] for e in public["timeline"]} == {"citizen", "agency", "system"}
    public_text = json.dumps(public, ensure_ascii=False)
    assert "0987 654 321" not in public_text and "Trần Thị Thử" not in public_text


def test_illegal_move_is_409_and_names_the_legal_ones(client, make_staff):
    officer = make_staff("gt.officer", "officer", "UBND-TPBN")
    created = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "traffic"}).get_json()
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    assert created["agency"]["code"] == "UBND-TPBN"
    response = act(client, officer, item_id, {"action": "resolve", "text": "xong", "evidence_reason": "không có"})
    assert response.status_code == 409
    assert "in_progress" in response.get_json()["errors"]["legal_moves"]


def test_stale_etag_is_412_and_missing_etag_is_refused(client, make_staff):
    officer = make_staff("gt.two", "officer", "UBND-TPBN")
    client.post("/api/v1/feedback", json={**SUBMISSION, "category": "traffic"})
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    old = client.get(f"/api/v1/triage/items/{item_id}", headers=officer).headers["ETag"]
    assert act(client, officer, item_id, {"action": "note", "message": "ghi chú"}, etag=old).status_code == 200
    stale = act(client, officer, item_id, {"action": "accept"}, etag=old)
    assert stale.status_code == 412
    missing = client.post(f"/api/v1/triage/items/{item_id}/actions", json={"action": "accept"}, headers=officer)
    assert missing.status_code == 422 and "If-Match" in missing.get_json()["errors"]


def test_send_back_returns_to_the_desk_and_reroute_is_a_label(client, make_staff, app):
    officer = make_staff("gt.three", "officer", "UBND-TPBN")
    coordinator = make_staff("desk.two", "coordinator")
    client.post("/api/v1/feedback", json={**SUBMISSION, "category": "traffic"})
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    sent = act(client, officer, item_id, {"action": "send_back", "message": "Cống thoát nước không thuộc UBND thành phố."})
    assert sent.get_json()["item"]["status"] == "needs_triage"
    assert client.get(f"/api/v1/triage/items/{item_id}", headers=officer).status_code == 404  # no longer theirs
    queue = client.get("/api/v1/triage/items?sent_back=true", headers=coordinator).get_json()["items"]
    assert [i["id"] for i in queue] == [item_id]
    act(client, coordinator, item_id, {"action": "route", "agency": "NSBN", "category": "water"})
    with app.app_context():
        from feedback_app.services.model_registry import history_examples

        texts, labels, _ = history_examples()
        assert labels == ["water"] and "Cống" in texts[0]


def test_merge_closes_the_duplicate_and_its_citizen_follows_the_original(client, make_staff, app):
    officer = make_staff("nuoc.two", "officer", "NSBN")
    first = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water"}).get_json()
    second = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water",
                                                    "description": SUBMISSION["description"] + " Đề nghị xử lý."}).get_json()
    items = {i["tracking_code"]: i["id"] for i in client.get("/api/v1/triage/items", headers=officer).get_json()["items"]}
    detail = client.get(f"/api/v1/triage/items/{items[second['tracking_code']]}", headers=officer).get_json()
    assert detail["duplicates"][0]["tracking_code"] == first["tracking_code"] and detail["duplicates"][0]["score"] > 0.8
    merged = act(client, officer, items[second["tracking_code"]], {"action": "merge", "duplicate_of": first["tracking_code"]})
    assert merged.get_json()["item"]["status"] == "closed"
    public = assert_tracking_answer_is_the_schemas_dump(client, app, second["tracking_code"])
    assert public["merged_into"]["tracking_code"] == first["tracking_code"]
    assert assert_tracking_answer_is_the_schemas_dump(client, app, first["tracking_code"])["merged_into"] is None


def test_reject_needs_a_reason_and_a_public_text(client, make_staff):
    coordinator = make_staff("desk.three", "coordinator")
    client.post("/api/v1/feedback", json={"description": "quảng cáo bán hàng giá rẻ liên hệ ngay nhé"})
    item_id = client.get("/api/v1/triage/items", headers=coordinator).get_json()["items"][0]["id"]
    assert act(client, coordinator, item_id, {"action": "reject", "reason": "spam"}).status_code == 422
    assert act(client, coordinator, item_id, {"action": "reject", "reason": "spam", "message": "Nội dung quảng cáo.",
                                              "agency": "X"}).status_code == 422
    rejected = act(client, coordinator, item_id, {"action": "reject", "reason": "spam", "message": "Nội dung quảng cáo."})
    assert rejected.get_json()["item"]["status"] == "rejected"


def test_respond_from_a_template_of_the_field(client, make_staff):
    officer = make_staff("gt.tpl", "officer", "UBND-TPBN")
    created = client.post("/api/v1/feedback", json={**SUBMISSION, "category": "traffic"}).get_json()
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    act(client, officer, item_id, {"action": "accept"})
    answered = act(client, officer, item_id, {"action": "respond", "template": "handled"})
    assert answered.status_code == 200
    assert answered.get_json()["item"]["answer"].startswith("Đơn vị quản lý đường bộ")
    english = act(client, officer, item_id, {"action": "respond", "template": "handled", "language": "en"})
    assert english.get_json()["item"]["answer"].startswith("The road authority")
    assert act(client, officer, item_id, {"action": "respond", "template": "nope"}).status_code == 422
    assert client.get(f"/api/v1/feedback/{created['tracking_code']}").get_json()["answer"].startswith("The road")


def test_tracking_view_without_consent_and_with_a_history(client, make_staff, app):
    """The tracking view (one statement on PostgreSQL) against the schema's dump of the three-statement view:
    no consent, so the citizen's photo is hidden and the agency's evidence shown; internal notes left out;
    a phone number in a public message masked; the code found however the citizen types it."""
    officer = make_staff("nuoc.three", "officer", "NSBN")
    body = {**SUBMISSION, "category": "water", "consent_public": False}
    created = client.post("/api/v1/feedback", data={"data": json.dumps(body), "files": [file_part(png_bytes(), "a.png")]},
                          content_type="multipart/form-data").get_json()
    code = created["tracking_code"]
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    assert act(client, officer, item_id, {"action": "accept"}).status_code == 200
    assert act(client, officer, item_id, {"action": "note", "message": "Ghi chú nội bộ"}).status_code == 200
    asked = act(client, officer, item_id, {"action": "request_info", "message": "Xin gọi lại số 0912 345 678."})
    assert asked.status_code == 200
    for size in (3, 4):
        uploaded = client.post(f"/api/v1/triage/items/{item_id}/attachments", headers=officer,
                               data={"files": [file_part(png_bytes(size, size), "sau.png")]},
                               content_type="multipart/form-data")
        assert uploaded.status_code == 201
    public = assert_tracking_answer_is_the_schemas_dump(client, app, code)
    assert public["description"] is None and len(public["attachments"]) == 2
    assert [e["status"] for e in public["timeline"] if e["kind"] == "status"][-2:] == ["in_progress", "waiting_citizen"]
    assert "Ghi chú nội bộ" not in json.dumps(public, ensure_ascii=False)
    assert public["timeline"][-1]["message"] == "Xin gọi lại số [số điện thoại]."
    typed = f"{code[:4].lower()}-{code[4:]}"
    assert client.get(f"/api/v1/feedback/{typed}").get_json() == public
    assert client.get("/api/v1/feedback/ZZZZZZZZ").status_code == 404


def test_an_actions_answer_is_the_items_detail_after_it(client, make_staff):
    """The action's answer reads the item's events and attachments after the action and the audit of the
    contact it shows: the same as the detail view read next."""
    officer = make_staff("nuoc.four", "officer", "NSBN")
    client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water"})
    item_id = client.get("/api/v1/triage/items", headers=officer).get_json()["items"][0]["id"]
    answer = act(client, officer, item_id, {"action": "accept", "message": "Đã tiếp nhận."})
    assert answer.status_code == 200
    item = answer.get_json()["item"]
    assert [(e["kind"], e["to_status"]) for e in item["timeline"]][-3:] == [
        ("contact_viewed", None), ("status", "in_progress"), ("contact_viewed", None)]
    assert answer.headers["ETag"] == item["etag"]
    again = client.get(f"/api/v1/triage/items/{item_id}", headers=officer).get_json()
    assert again["timeline"][:-1] == item["timeline"] and again["timeline"][-1]["kind"] == "contact_viewed"
    assert {k: v for k, v in again.items() if k != "timeline"} == {k: v for k, v in item.items() if k != "timeline"}


def test_the_queue_pages_and_their_total_with_filters(client, make_staff):
    """The queue reads a page and its total in one statement; an empty page past the end still knows the total."""
    officer = make_staff("nuoc.five", "officer", "NSBN")
    for i in range(5):
        client.post("/api/v1/feedback", json={**SUBMISSION, "category": "water",
                                               "description": f"{SUBMISSION['description']} Lần {i}. " + "x" * 400})

    def queue(**params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = client.get(f"/api/v1/triage/items?{query}", headers=officer)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    whole = queue(page_size=100)
    assert whole["pagination"] == {"page": 1, "page_size": 100, "total": 5, "pages": 1}
    assert all(len(i["description"]) == 300 for i in whole["items"])
    pages = [queue(page_size=2, page=p) for p in (1, 2, 3, 4)]
    assert [p["pagination"]["total"] for p in pages] == [5, 5, 5, 5]
    assert [i for p in pages for i in p["items"]] == whole["items"] and pages[3]["items"] == []
    assert queue(status="resolved")["pagination"]["total"] == 0
    assert queue(status="resolved", page=3)["pagination"] == {"page": 3, "page_size": 20, "total": 0, "pages": 0}
    found = queue(q="lần 3", category="water", area="256", page_size=1)
    assert found["pagination"]["total"] == 1 and "Lần 3." in found["items"][0]["description"]
