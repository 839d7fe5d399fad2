"""Dashboard sign-in: the staff token of services.auth kept in Flask's signed session cookie, one CSRF token per session."""
from __future__ import annotations

import hmac
import secrets

from flask import session

from feedback_app.models import StaffUser
from feedback_app.services.auth import staff_for_token

SESSION_TOKEN = "staff_token"
CSRF_KEY = "csrf"
LANG_KEY = "lang"
# Who reads the dashboard; an agency admin reads their own agency's figures only.
DASHBOARD_ROLES = frozenset({"manager", "coordinator", "admin", "agency_admin"})


def csrf_token() -> str:
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def csrf_valid(submitted: str | None) -> bool:
    expected = session.get(CSRF_KEY)
    return bool(expected) and bool(submitted) and hmac.compare_digest(str(expected), str(submitted))


def signed_in_staff() -> StaffUser | None:
    """The session's user while their token is valid: an expired token, a new password or a deactivated
    account ends the dashboard session too."""
    token = session.get(SESSION_TOKEN)
    return staff_for_token(token) if isinstance(token, str) and token else None


def _restart(**values) -> None:
    """A new session (nothing of the old one but the language): no fixation across a sign-in or sign-out."""
    lang = session.get(LANG_KEY)
    session.clear()
    if lang:
        session[LANG_KEY] = lang
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    session.update(values)


def start_session(token: str) -> None:
    _restart(**{SESSION_TOKEN: token})
    session.permanent = True  # the cookie lives as long as the token (PERMANENT_SESSION_LIFETIME)


def end_session() -> None:
    _restart()


def safe_next(target: str | None, default: str) -> str:
    """Only a path inside the dashboard: never another host (no open redirect)."""
    if not target or not target.startswith("/dashboard") or target.startswith("//") or "\\" in target:
        return default
    return target
