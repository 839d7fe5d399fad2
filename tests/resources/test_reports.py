"""Reports through HTTP: figures after a real story, who may read what, bad input, files, exports, rollups."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import sqlalchemy as sa
from openpyxl import load_workbook

from feedback_app.models.types import local_day, utcnow
from tests.resources.test_triage_story import act

WATER = {"description": "Cống thoát nước ở ngõ 5 bị tắc, mưa xuống là ngập cả ngõ.", "category": "water",
         "area_code": "256", "contact": {"phone": "0987 654 321"}}


def _today():
    return local_day(utcnow()).isoformat()


def _report(client, headers, **params):
    params = {"from": _today(), "to": _today(), **params}
    return client.get("/api/v1/reports/processing-rate", query_string=params, headers=headers)


def _story(client, make_staff):
    """Three water items routed to NSBN: one resolved, one rejected, one left open."""
    coordinator = make_staff("desk", "coordinator")
    officer = make_staff("nuoc.officer", "officer", "NSBN")
    for _ in range(3):
        created = client.post("/api/v1/feedback", json=WATER)
        assert created.status_code == 201 and created.get_json()["status"] == "routed", created.get_json()
    ids = [i["id"] for i in client.get("/api/v1/triage/items", headers=officer).get_json()["items"]]
    assert len(ids) == 3
    assert act(client, officer, ids[0], {"action": "accept"}).status_code == 200
    assert act(client, officer, ids[0], {"action": "resolve", "text": "Đã nạo vét.",
                                         "evidence_reason": "Kiểm tra tại chỗ."}).status_code == 200
    assert act(client, coordinator, ids[1], {"action": "reject", "reason": "spam", "message": "Tin rác"}).status_code == 200
    return coordinator, officer, ids


def _make_overdue(app, item_id):
    from feedback_app.extensions import db
    from feedback_app.models import FeedbackItem

    with app.app_context():
        db.session.get(FeedbackItem, uuid.UUID(item_id)).due_at = utcnow() - timedelta(days=3)
        db.session.commit()


def test_processing_rate_after_a_story(app, client, make_staff):
    _, _, ids = _story(client, make_staff)
    _make_overdue(app, ids[2])
    manager = make_staff("boss", "manager")
    body = _report(client, manager).get_json()
    row = next(r for r in body["rows"] if r["key"] == "NSBN")
    assert (row["received"], row["handled"], row["open"], row["overdue_open"]) == (3, 2, 1, 1)
    assert row["handled_pct"] == 66.7 and row["handled_on_time"] == 2 and row["on_time_pct"] == 100.0
    assert row["resolve_hours_p50"] is not None and row["auto_route_rate"] == 0.0  # the citizen's field, no model
    assert body["totals"]["received"] >= 3 and body["totals"]["key"] == "total"

    by_field = _report(client, manager, group_by="category").get_json()
    assert next(r for r in by_field["rows"] if r["key"] == "water")["received"] == 3
    by_month = _report(client, manager, group_by="month").get_json()
    assert [r["key"] for r in by_month["rows"]] == [_today()[:7]] and by_month["rows"][0]["received"] == 3

    overdue = client.get("/api/v1/reports/overdue", headers=manager).get_json()
    assert overdue["total"] == 1 and overdue["items"][0]["id"] == ids[2]
    assert overdue["items"][0]["working_hours_late"] > 0 and overdue["items"][0]["agency"]["code"] == "NSBN"
    assert "0987" not in str(overdue)


def test_rollups_give_the_same_report(app, client, make_staff):
    """A refresh builds closed days; a report over them reads rollups and still agrees with the live count."""
    from feedback_app.extensions import db
    from feedback_app.models import FeedbackItem, report_rollups
    from feedback_app.services.report_rollups import refresh_rollups

    _, officer, ids = _story(client, make_staff)
    manager = make_staff("boss", "manager")
    with app.app_context():  # move the story (items and events) to three days ago: its day is a closed one
        shift = timedelta(days=3)
        for item in db.session.scalars(sa.select(FeedbackItem)):
            item.created_at -= shift
            item.created_day = local_day(item.created_at)
            for event in item.events:
                event.created_at -= shift
        db.session.commit()
    day = local_day(utcnow() - timedelta(days=3)).isoformat()
    live = _report(client, manager, **{"from": day, "to": day}).get_json()
    with app.app_context():
        assert refresh_rollups()["days"] >= 1
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(report_rollups)) >= 1
    rolled = _report(client, manager, **{"from": day, "to": day}).get_json()
    assert rolled["rows"] == live["rows"]
    # A change after the refresh makes that day dirty: the report counts it from the items again.
    assert act(client, officer, ids[2], {"action": "accept"}).status_code == 200
    assert act(client, officer, ids[2], {"action": "resolve", "text": "Xong.", "evidence_reason": "Đã kiểm tra."}).status_code == 200
    after = _report(client, manager, **{"from": day, "to": day}).get_json()
    assert next(r for r in after["rows"] if r["key"] == "NSBN")["handled"] == 3


def test_who_may_read_reports(client, make_staff):
    _story(client, make_staff)
    assert _report(client, {}).status_code == 401
    officer = make_staff("o2", "officer", "NSBN")
    assert _report(client, officer).status_code == 403
    own = make_staff("nsbn.admin", "agency_admin", "NSBN")
    mine = _report(client, own).get_json()
    assert [r["key"] for r in mine["rows"]] == ["NSBN"] and mine["filters"]["agency"] == "NSBN"
    other = _report(client, own, agency="CA-TINH")
    assert other.status_code == 403 and other.get_json()["code"]
    admin = make_staff("root", "admin")
    assert _report(client, admin, agency="NSBN").status_code == 200


def test_bad_report_queries_are_clear_4xx(client, make_staff):
    manager = make_staff("boss", "manager")
    for params, field in [({"from": "2026-05-02", "to": "2026-05-01"}, "to"), ({"group_by": "planet"}, "group_by"),
                          ({"area": "NOWHERE"}, "area"), ({"agency": "NOPE"}, "agency"), ({"from": "yesterday"}, "from"),
                          ({"format": "pdf"}, "format"), ({"colour": "red"}, "colour"),
                          ({"from": "2020-01-01", "to": "2026-01-01"}, "to")]:
        response = _report(client, manager, **params)
        assert response.status_code == 422, (params, response.get_json())
        body = response.get_json()
        assert set(body) >= {"code", "status", "message", "errors"}
        assert field in str(body["errors"]), (params, body)
    assert client.get("/api/v1/reports/processing-rate", headers=manager).status_code == 422  # no period


def test_files_csv_and_xlsx_with_definitions(client, make_staff):
    _story(client, make_staff)
    manager = make_staff("boss", "manager")
    csv_response = _report(client, manager, format="csv", lang="en")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Key", "Name", "Received"] and rows[-1][0] == "total"
    nsbn = next(r for r in rows if r[0] == "NSBN")
    assert nsbn[2] == "3"

    xlsx = _report(client, manager, format="xlsx")
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    assert book.sheetnames == ["Báo cáo", "Định nghĩa"]
    sheet = list(book["Báo cáo"].iter_rows(values_only=True))
    assert sheet[0][2] == "Tiếp nhận" and any(r[0] == "NSBN" and r[2] == 3 for r in sheet[1:])
    definitions = [r[0] for r in book["Định nghĩa"].iter_rows(values_only=True)]
    assert "on_time_pct" in definitions and "resolve_hours" in definitions

    overdue_csv = client.get("/api/v1/reports/overdue", query_string={"format": "csv"}, headers=manager)
    assert overdue_csv.status_code == 200 and overdue_csv.data.decode("utf-8-sig").startswith("Mã phản ánh")


def test_export_runs_as_a_job_and_gives_a_link(app, client, make_staff):
    from feedback_app.extensions import db
    from feedback_app.models import OutboxMessage
    from workers.jobs import handle_outbox_message

    _, _, ids = _story(client, make_staff)
    _make_overdue(app, ids[2])
    manager = make_staff("boss", "manager")
    asked = client.post("/api/v1/reports/exports", headers=manager,
                        json={"report": "overdue", "format": "xlsx", "language": "en"})
    assert asked.status_code == 202, asked.get_json()
    export = asked.get_json()
    assert export["status"] == "queued" and export["download_url"] is None
    with app.app_context():
        message_id = db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.topic == "report.export"))
        assert handle_outbox_message(message_id)["status"] == "done"
    status = client.get(asked.headers["Location"], headers=manager).get_json()
    assert status["status"] == "done" and status["rows"] == 1
    file = client.get(status["download_url"], headers=manager)
    book = load_workbook(io.BytesIO(file.data), read_only=True)
    assert list(book["Report"].iter_rows(values_only=True))[1][0] is not None
    # Another manager cannot see or fetch it.
    other = make_staff("boss2", "manager")
    assert client.get(asked.headers["Location"], headers=other).status_code == 404
    assert client.get(status["download_url"], headers=other).status_code == 404

    missing = client.post("/api/v1/reports/exports", headers=manager, json={"report": "processing-rate", "format": "csv"})
    assert missing.status_code == 422 and "params" in missing.get_json()["errors"]
    assert client.post("/api/v1/reports/exports", headers={}, json={"report": "overdue", "format": "csv"}).status_code == 401


def test_cli_refresh_and_rebuild(app):
    runner = app.test_cli_runner()
    refreshed = runner.invoke(args=["reports", "refresh"])
    assert refreshed.exit_code == 0 and "rebuilt" in refreshed.output
    rebuilt = runner.invoke(args=["reports", "rebuild", "--from", "2026-01-01", "--to", "2026-01-03"])
    assert rebuilt.exit_code == 0 and "rebuilt 3 days" in rebuilt.output
    backwards = runner.invoke(args=["reports", "rebuild", "--from", "2026-01-03", "--to", "2026-01-01"])
    assert backwards.exit_code == 2
