"""Who may see and do what: object-level checks on every item, the same table for every route."""
from __future__ import annotations

from feedback_app.models import FeedbackItem, StaffUser
from feedback_app.models.staff import AGENCY_ROLES
from feedback_app.services.errors import DomainError, Forbidden, NotFound, Unauthorized

# Roles allowed to take each action; agency roles only on their own agency's items.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "route": frozenset({"coordinator", "admin"}),
    "accept": frozenset({"officer", "agency_admin", "admin"}),
    "assign": frozenset({"officer", "agency_admin", "admin"}),
    "request_info": frozenset({"officer", "agency_admin", "admin"}),
    "respond": frozenset({"officer", "agency_admin", "admin"}),
    "resolve": frozenset({"officer", "agency_admin", "admin"}),
    "reject": frozenset({"agency_admin", "coordinator", "admin"}),
    "send_back": frozenset({"officer", "agency_admin"}),
    "merge": frozenset({"officer", "agency_admin", "coordinator", "admin"}),
    "note": frozenset({"officer", "agency_admin", "coordinator", "admin"}),
}
READ_ALL_ROLES = frozenset({"coordinator", "manager", "admin"})


def require_staff(user: StaffUser | None, *roles: str) -> StaffUser:
    """401 without a valid token; 403 for a role that is not allowed here."""
    if user is None:
        raise Unauthorized("staff_only")
    if roles and user.role not in roles:
        raise Forbidden("role_forbidden", role=user.role, action="/".join(roles))
    return user


def can_view(user: StaffUser, item: FeedbackItem) -> bool:
    if user.role in READ_ALL_ROLES:
        return True
    return user.role in AGENCY_ROLES and item.agency_id is not None and item.agency_id == user.agency_id


def ensure_visible(user: StaffUser, item: FeedbackItem | None) -> FeedbackItem:
    """Another agency's item is answered exactly like a missing one: 404, nothing leaks."""
    if item is None or not can_view(user, item):
        raise NotFound()
    return item


def sees_contact(user: StaffUser, item: FeedbackItem) -> bool:
    """The citizen's contact: for the staff of the item's own agency only."""
    return user.role in AGENCY_ROLES and item.agency_id == user.agency_id


def ensure_may_act(user: StaffUser, item: FeedbackItem, action: str) -> None:
    allowed = ACTION_ROLES.get(action)
    if allowed is None:
        raise DomainError(errors={"action": [f"one of {', '.join(sorted(ACTION_ROLES))}"]})
    if user.role not in allowed:
        raise Forbidden("role_forbidden", role=user.role, action=action)
    if user.role in AGENCY_ROLES and item.agency_id != user.agency_id:
        raise NotFound()
