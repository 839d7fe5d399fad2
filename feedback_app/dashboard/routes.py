"""The managers' dashboard: sign-in, sign-out and one server-rendered page of figures and SVG charts."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from feedback_app.dashboard import figures, view
from feedback_app.dashboard.numbers import data_value, format_count, format_pct, format_plain, format_points
from feedback_app.dashboard.signin import (
    DASHBOARD_ROLES, csrf_token, csrf_valid, end_session, safe_next, signed_in_staff, start_session,
)
from feedback_app.dashboard.text import current_language, t
from feedback_app.extensions import db, rate_limit
from feedback_app.services import auth
from feedback_app.services.directory import directory
from feedback_app.services.errors import DomainError

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if request.endpoint != "dashboard.static":
        response.headers["Cache-Control"] = "no-store"  # one person's figures, never kept by a cache
        response.vary.add("Cookie")
    return response


@bp.context_processor
def _template_helpers():
    lang = current_language()
    fmt = {"count": lambda v: format_count(v, lang), "pct": lambda v: format_pct(v, lang),
           "plain": lambda v: format_plain(v, lang)}
    root = directory().root
    return {
        "t": t, "lang": lang, "csrf_token": csrf_token, "fmt": fmt, **fmt,
        "points": lambda v: format_points(v, lang), "raw": data_value, "lang_url": _lang_url,
        "display_date": lambda d: figures.display_date(d, lang),
        "province": (root.name_en if lang == "en" else root.name_vi) if root else None,
    }


def _lang_url(lang: str) -> str:
    args = request.args.to_dict()
    args["lang"] = lang
    return url_for(request.endpoint or "dashboard.index", **args)


def _forbidden(user):
    body = render_template("dashboard/forbidden.html", user=user,
                           role_name=t(f"role_{user.role}"), title=t("forbidden_title"))
    return body, 403


@bp.get("")
def index():
    """The dashboard page for the signed-in manager, coordinator, admin or agency admin."""
    user = signed_in_staff()
    if user is None:
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")), 303)
    if user.role not in DASHBOARD_ROLES:
        return _forbidden(user)
    lang = current_language()
    filters = figures.parse_filters(request.args)
    common = {"user": user, "filters": filters, "areas": figures.area_choices(lang), "presets": figures.PRESETS,
              "heading": view.heading(user, filters, lang)}
    try:
        page = figures.dashboard_figures(user, filters)
    except DomainError as error:
        db.session.rollback()
        return render_template("dashboard/index.html", page=None, error=view.error_text(error, lang),
                               **common), error.status
    return render_template("dashboard/index.html", page=page, error=None, svg=view.drawings(page, lang),
                           ranking_cols=view.RANKING_COLUMNS, label="label_en" if lang == "en" else "label_vi",
                           generated=figures.local_time(page["generated_at"]), **common)


@bp.route("/login", methods=["GET", "POST"])
@rate_limit("30 per minute", methods=["POST"])
def login():
    """Sign in with a username and password; failures count towards the account's lock as on the API."""
    next_url = safe_next(request.values.get("next"), url_for("dashboard.index"))
    if request.method == "GET":
        if signed_in_staff() is not None:
            return redirect(next_url, 303)
        return render_template("dashboard/login.html", next_url=next_url, error=None, username="")
    username = (request.form.get("username") or "").strip()[:64]
    if not csrf_valid(request.form.get("csrf_token")):
        return render_template("dashboard/login.html", next_url=next_url, error=t("csrf_failed"),
                               username=username), 400
    try:
        token = auth.login(username=username, password=request.form.get("password") or "")
    except DomainError as error:
        db.session.commit()  # the failure count must survive the refusal
        headers = {"Retry-After": str(error.params["retry_after"])} if "retry_after" in error.params else {}
        return render_template("dashboard/login.html", next_url=next_url, username=username,
                               error=t(error.message_key, **error.params)), error.status, headers
    db.session.commit()
    start_session(token.access_token)
    return redirect(next_url, 303)


@bp.post("/logout")
def logout():
    """Sign out: the session cookie is emptied (the form carries the CSRF token)."""
    if not csrf_valid(request.form.get("csrf_token")):
        return render_template("dashboard/login.html", next_url=url_for("dashboard.index"),
                               error=t("csrf_failed"), username=""), 400
    end_session()
    return redirect(url_for("dashboard.login"), 303)
