"""Staff sign-in: tokens that expire, failures that slow down and then lock, revocation by password change."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import StaffUser
from feedback_app.models.types import utcnow
from tests.conftest import process_env, PASSWORD, PROJECT_ROOT


def token(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_is_issued_and_opens_the_queue(client, make_staff):
    headers = make_staff("cb.gt", "officer", "SGTVT")
    assert client.get("/api/v1/triage/items", headers=headers).status_code == 200
    body = token(client, "cb.gt").get_json()
    assert body["token_type"] == "Bearer" and body["expires_at"].endswith("+07:00")


def test_wrong_password_and_unknown_user_look_the_same(client, make_staff):
    make_staff("cb.one", "officer", "SGTVT")
    wrong, unknown = token(client, "cb.one", "nope-nope-nope"), token(client, "nobody", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["message"] == unknown.get_json()["message"]


def test_failures_slow_down_then_lock(client, app, make_staff):
    make_staff("cb.two", "officer", "SGTVT")
    for _ in range(3):
        assert token(client, "cb.two", "bad-password!").status_code == 401
    slowed = token(client, "cb.two", PASSWORD)  # even the right password waits its turn
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    for _ in range(7):
        with app.app_context():  # skip the waiting, not the counting
            db.session.execute(sa.update(StaffUser).values(last_failed_at=utcnow() - timedelta(minutes=5)))
            db.session.commit()
        token(client, "cb.two", "bad-password!")
    locked = token(client, "cb.two", PASSWORD)
    assert locked.status_code == 423 and int(locked.headers["Retry-After"]) > 60
    with app.app_context():
        db.session.execute(sa.update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert token(client, "cb.two", PASSWORD).status_code == 200


def test_expired_and_revoked_tokens_are_refused(client, app, make_staff, monkeypatch):
    headers = make_staff("cb.three", "officer", "SGTVT")
    from itsdangerous import TimestampSigner

    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 9 * 3600)
    assert client.get("/api/v1/triage/items", headers=headers).status_code == 401
    monkeypatch.undo()
    assert client.get("/api/v1/triage/items", headers=headers).status_code == 200
    with app.app_context():
        from feedback_app.services.auth import set_password

        set_password(db.session.scalar(sa.select(StaffUser).where(StaffUser.username == "cb.three")), "a brand new password")
        db.session.commit()
    assert client.get("/api/v1/triage/items", headers=headers).status_code == 401
    assert client.get("/api/v1/triage/items", headers={"Authorization": "Bearer forged.token"}).status_code == 401


def test_cli_creates_a_user_with_the_password_from_stdin(app, client):
    env = process_env(app)
    result = subprocess.run([sys.executable, "-m", "flask", "users", "create", "coord.one", "--role", "coordinator"],
                            input="a long enough password\n", env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert token(client, "coord.one", "a long enough password").status_code == 200
    bad = subprocess.run([sys.executable, "-m", "flask", "users", "create", "x.y", "--role", "officer"],
                         input="a long enough password\n", env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert bad.returncode == 1 and "agency" in bad.stderr


def test_a_deactivation_here_ends_the_token_at_once_and_elsewhere_within_the_cache_time(client, app, make_staff,
                                                                                         monkeypatch):
    from feedback_app.services import auth

    officer = make_staff("cb.four", "officer", "SGTVT")
    admin = make_staff("cb.admin", "admin")
    assert client.get("/api/v1/triage/items", headers=officer).status_code == 200
    with app.app_context():
        officer_id = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.username == "cb.four"))
    # Through the API (this process's ORM): refused on the next request.
    assert client.patch(f"/api/v1/admin/users/{officer_id}", headers=admin, json={"active": False}).status_code == 200
    assert client.get("/api/v1/triage/items", headers=officer).status_code == 401
    # Written by another process: trusted until STAFF_TOKEN_CACHE_SECONDS have passed, then refused.
    admin_two = make_staff("cb.admin2", "admin")
    assert client.get("/api/v1/triage/items", headers=admin_two).status_code == 200
    with app.app_context():
        db.session.execute(sa.update(StaffUser).where(StaffUser.username == "cb.admin2")
                           .values(active=False, token_generation=StaffUser.token_generation + 1))
        db.session.commit()
    assert client.get("/api/v1/triage/items", headers=admin_two).status_code == 200
    later = auth._clock() + app.config.get("STAFF_TOKEN_CACHE_SECONDS", 10) + 1
    monkeypatch.setattr(auth, "_clock", lambda: later)
    assert client.get("/api/v1/triage/items", headers=admin_two).status_code == 401


def test_a_cached_account_reads_its_other_columns_fresh(client, app, make_staff):
    admin = make_staff("cb.admin3", "admin")
    assert client.get("/api/v1/admin/users", headers=admin).status_code == 200  # now cached
    with app.app_context():
        db.session.execute(sa.update(StaffUser).where(StaffUser.username == "cb.admin3")
                           .values(display_name="Quản trị viên"))
        db.session.commit()
    users = client.get("/api/v1/admin/users", headers=admin).get_json()
    assert [u["display_name"] for u in users if u["username"] == "cb.admin3"] == ["Quản trị viên"]
