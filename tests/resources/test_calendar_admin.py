"""Decreed days change deadlines; agencies' webhooks are set by admins; old contacts are erased."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, ItemContact
from feedback_app.models.types import utcnow


def test_a_decreed_day_off_moves_the_deadline(client, make_staff, app):
    admin = make_staff("cal.admin", "admin")
    officer = make_staff("cal.officer", "officer", "SGTVT")
    assert client.post("/api/v1admin/calendar", json={}).status_code == 404
    created = client.post("/api/v1/admin/calendar", headers=admin,
                          json={"day": "2030-01-07", "kind": "day_off", "note": "Nghỉ bù"})
    assert created.status_code == 201, created.get_json()
    assert client.post("/api/v1/admin/calendar", headers=officer, json={"day": "2030-01-08", "kind": "day_off"}).status_code == 403
    listed = client.get("/api/v1/admin/calendar?year=2030", headers=admin).get_json()
    assert listed == [{"day": "2030-01-07", "kind": "day_off", "note": "Nghỉ bù"}]
    with app.app_context():
        from datetime import date

        from feedback_app.services.clocks import calendar

        assert not calendar().is_working_day(date(2030, 1, 7))
    assert client.delete("/api/v1/admin/calendar/2030-01-07", headers=admin).status_code == 204
    assert client.delete("/api/v1/admin/calendar/2030-01-07", headers=admin).status_code == 404


def test_admin_sets_an_agencys_webhook(client, make_staff):
    admin = make_staff("hook.admin", "admin")
    response = client.patch("/api/v1/admin/agencies/NSBN", headers=admin,
                            json={"webhook_url": "https://hooks.example.vn/nsbn", "webhook_secret": "s" * 32})
    assert response.status_code == 200
    body = response.get_json()
    assert body["has_webhook_secret"] is True and "webhook_secret" not in body
    assert client.patch("/api/v1/admin/agencies/NOPE", headers=admin, json={"active": True}).status_code == 404
    assert client.patch("/api/v1/admin/agencies/NSBN", headers=admin, json={"webhook_url": "ftp://x"}).status_code == 422
    client.patch("/api/v1/admin/agencies/NSBN", headers=admin, json={"webhook_url": None, "webhook_secret": None})


def test_retention_erases_old_contacts_and_keeps_the_items(client, app):
    from feedback_app.services.retention import erase_old_contacts

    old = client.post("/api/v1/feedback", json={"description": "Phản ánh cũ đã xong từ lâu", "contact": {"phone": "0911111111"}}).get_json()
    new = client.post("/api/v1/feedback", json={"description": "Phản ánh mới đã xong gần đây", "contact": {"phone": "0922222222"}}).get_json()
    with app.app_context():
        for code, age in ((old["tracking_code"], 800), (new["tracking_code"], 10)):
            db.session.execute(sa.update(FeedbackItem).where(FeedbackItem.tracking_code == code)
                               .values(status="closed", closed_at=utcnow() - timedelta(days=age)))
        db.session.commit()
        assert erase_old_contacts(months=24) == 1
        db.session.commit()
        phones = dict(db.session.execute(sa.select(FeedbackItem.tracking_code, ItemContact.phone)
                                         .join(ItemContact, ItemContact.item_id == FeedbackItem.id)).all())
        assert phones == {old["tracking_code"]: None, new["tracking_code"]: "0922222222"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackItem)) == 2
