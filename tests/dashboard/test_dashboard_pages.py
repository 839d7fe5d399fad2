"""The dashboard through Flask's test client: sign-in, CSRF, sign-out, who may look, languages, filters, figures."""
from __future__ import annotations

from datetime import date, timedelta

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from feedback_app.config import load_settings
from feedback_app.extensions import db
from feedback_app.models import StaffUser
from feedback_app.models.types import utcnow
from tests.conftest import PASSWORD
from tests.dashboard.conftest import csrf_from
from tests.dashboard.page_figures import assert_page_matches_api, expected_reports, figures_in_html, one
from tests.dashboard.seeding import seed_province


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_form_and_back(client, make_staff):
    response = client.get("/dashboard?preset=last_3_months")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/dashboard/login" and parse_qs(location.query) == {"next": ["/dashboard?preset=last_3_months"]}
    form = client.get(response.headers["Location"])
    assert form.status_code == 200 and 'name="csrf_token"' in text(form)
    make_staff("lanh.dao", "manager")
    signed_in = client.post("/dashboard/login", data={
        "username": "lanh.dao", "password": PASSWORD, "csrf_token": csrf_from(text(form)),
        "next": "/dashboard?preset=last_3_months"})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/dashboard?preset=last_3_months"


def test_sign_in_sets_a_protected_cookie_and_sign_out_needs_the_csrf_token(client, make_staff, dashboard_login):
    make_staff("lanh.dao", "manager")
    response = dashboard_login("lanh.dao", PASSWORD)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("phananh_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # it lives as long as the staff token, not forever

    page = client.get("/dashboard")
    assert page.status_code == 200 and 'data-figure="handled_pct"' in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    # Nothing is fetched from anywhere else: every src and href is a path on this server.
    assert not re.search(r'(?:src|href)="(?:[a-z]+:)?//', text(page))
    assert {m for m in re.findall(r'(?:src|href)="([^"]*)"', text(page)) if not m.startswith("/")} <= {"data:,"}

    refused = client.post("/dashboard/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert client.get("/dashboard").status_code == 200  # still signed in
    out = client.post("/dashboard/logout", data={"csrf_token": csrf_from(text(page))})
    assert out.status_code == 303 and out.headers["Location"] == "/dashboard/login"
    assert client.get("/dashboard").status_code == 303


def test_the_cookie_is_secure_when_configured_and_by_default_in_production(app, client, make_staff, dashboard_login,
                                                                           monkeypatch, tmp_path):
    make_staff("lanh.dao", "manager")
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = dashboard_login("lanh.dao", PASSWORD)
    assert "Secure" in next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("phananh_session="))
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    production = load_settings({"APP_ENV": "production", "SECRET_KEY": "k", "INSTANCE_PATH": str(tmp_path)})
    assert production["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert load_settings({"APP_ENV": "production", "SECRET_KEY": "k",
                          "INSTANCE_PATH": str(tmp_path)})["SESSION_COOKIE_SECURE"] is False


def test_a_login_without_this_sessions_csrf_token_is_refused(app, client, make_staff):
    make_staff("lanh.dao", "manager")
    client.get("/dashboard/login")
    forged = client.post("/dashboard/login", data={"username": "lanh.dao", "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 400 and "biểu mẫu không hợp lệ" in text(forged)
    missing = client.post("/dashboard/login", data={"username": "lanh.dao", "password": PASSWORD})
    assert missing.status_code == 400
    someone_elses = csrf_from(text(app.test_client().get("/dashboard/login")))
    assert client.post("/dashboard/login", data={"username": "lanh.dao", "password": PASSWORD,
                                                  "csrf_token": someone_elses}).status_code == 400
    assert client.get("/dashboard").status_code == 303


def test_failures_count_towards_the_lock_and_a_locked_account_is_told_to_wait(app, client, make_staff,
                                                                             dashboard_login):
    make_staff("lanh.dao", "manager")
    wrong = dashboard_login("lanh.dao", "not the password")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in text(wrong)
    assert 'value="lanh.dao"' in text(wrong) and "not the password" not in text(wrong)
    with app.app_context():
        assert db.session.scalar(sa.select(StaffUser.failed_logins).where(StaffUser.username == "lanh.dao")) == 1
        db.session.execute(sa.update(StaffUser).values(locked_until=utcnow() + timedelta(minutes=10)))
        db.session.commit()
    locked = dashboard_login("lanh.dao", PASSWORD)
    assert locked.status_code == 423 and int(locked.headers["Retry-After"]) > 0
    assert "tạm khóa" in text(locked)
    assert client.get("/dashboard").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/dashboard", "//evil.example/dashboard", "/api/v1/feedback",
                                    "/dashboard\\@evil.example"])
def test_after_sign_in_the_redirect_never_leaves_the_dashboard(client, make_staff, target):
    make_staff("lanh.dao", "manager")
    form = client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"username": "lanh.dao", "password": PASSWORD,
                                                     "csrf_token": csrf_from(text(form)), "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard"


def test_an_officer_gets_a_clear_403_page(client, make_staff, dashboard_login):
    make_staff("can.bo", "officer", "NSBN")
    assert dashboard_login("can.bo", PASSWORD).status_code == 303
    page = client.get("/dashboard")
    assert page.status_code == 403
    assert "không được xem bảng điều hành" in text(page) and "can.bo" in text(page)
    assert 'data-figure="handled_pct"' not in text(page)
    english = client.get("/dashboard?lang=en")
    assert english.status_code == 403 and "may not view the dashboard" in text(english)
    assert 'data-action="logout"' in text(page)  # a way out to sign in as someone else


def test_language_follows_accept_language_then_lang_which_is_remembered(client):
    assert "Đăng nhập cán bộ" in text(client.get("/dashboard/login"))
    assert "Staff sign-in" in text(client.get("/dashboard/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert '<html lang="en">' in text(client.get("/dashboard/login?lang=en"))
    assert "Staff sign-in" in text(client.get("/dashboard/login"))  # remembered for the session
    assert "Đăng nhập cán bộ" in text(client.get("/dashboard/login?lang=vi"))


def test_bad_filters_are_reported_and_replaced_by_the_default(client, make_staff, dashboard_login):
    make_staff("lanh.dao", "manager")
    dashboard_login("lanh.dao", PASSWORD)
    page = client.get("/dashboard?from=2026-13-01&to=2026-01-31&area=nowhere")
    assert page.status_code == 200
    assert "Ngày không hợp lệ: 2026-13-01" in text(page) and "Địa bàn không tồn tại: nowhere" in text(page)
    backwards = client.get("/dashboard?from=2026-03-01&to=2026-01-31")
    assert "Ngày bắt đầu phải trước ngày kết thúc." in text(backwards)
    ancient = client.get("/dashboard?from=0001-01-01&to=0001-01-31")
    assert ancient.status_code == 200 and "Ngày không hợp lệ: 0001-01-01" in text(ancient)
    too_long = client.get("/dashboard?from=2019-01-01&to=2026-01-31")
    assert too_long.status_code == 422 and "Không lập được báo cáo" in text(too_long)


def _api(client, headers):
    def get_json(path: str) -> dict:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.get_json())
        return response.get_json()

    return get_json


def test_every_figure_equals_the_api_for_a_manager_and_an_area_filter_changes_them(client, make_staff,
                                                                                   dashboard_login):
    seeded = seed_province(client, make_staff)
    api = _api(client, seeded.headers[seeded.manager])
    dashboard_login(seeded.manager, PASSWORD)

    seen = {}
    for query, area in (("preset=this_month", None), ("preset=last_3_months", None),
                        ("preset=last_3_months&area=258", "258"), ("preset=last_12_months&lang=en", None)):
        page = client.get(f"/dashboard?{query}")
        assert page.status_code == 200
        figures = figures_in_html(text(page))
        period = one(figures, figure="period")
        assert period["area"] == (area or "")
        start, end = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
        assert_page_matches_api(figures, expected_reports(api, start, end, area), "en" if "lang=en" in query else "vi")
        seen[query] = one(figures, figure="received")["value"]
    assert len(set(seen.values())) == len(seen), seen  # each filter changed what the page shows


def test_an_agency_admin_reads_their_own_agency_only(client, make_staff, dashboard_login):
    seed_province(client, make_staff)
    headers = make_staff("qt.yenphong", "agency_admin", "UBND-HYP")
    dashboard_login("qt.yenphong", PASSWORD)
    page = client.get("/dashboard?preset=last_12_months")
    assert page.status_code == 200 and "Ủy ban nhân dân huyện Yên Phong" in text(page)
    figures = figures_in_html(text(page))
    assert {f["agency"] for f in figures if f["figure"] == "agency"} == {"UBND-HYP"}
    period = one(figures, figure="period")
    api = expected_reports(_api(client, headers), date.fromisoformat(period["from"]),
                           date.fromisoformat(period["to"]), None)
    assert api["agency"]["filters"]["agency"] == "UBND-HYP"
    assert_page_matches_api(figures, api, "vi")
