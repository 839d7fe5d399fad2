"""The staff side of an item: each caller's queue, soonest deadline first, and the full detail view."""
from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Area, Attachment, FeedbackItem, Field, ItemContact, ItemEvent, StaffUser
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.models.staff import AGENCY_ROLES
from feedback_app.models.types import utcnow
from feedback_app.services import access
from feedback_app.services.directory import directory
from feedback_app.services.duplicates import likely_duplicates
from feedback_app.services.errors import NotFound
from feedback_app.services.workflow import ALLOWED_TRANSITIONS, Actor, record_event


def etag(item: FeedbackItem) -> str:
    return f'"{item.id}-{item.version}"'


def get_item(user: StaffUser, item_id: str) -> FeedbackItem:
    try:
        key = uuid.UUID(str(item_id))
    except ValueError:
        key = None
    item = db.session.get(FeedbackItem, key) if key else None
    return access.ensure_visible(user, item)


def get_item_and_contact(user: StaffUser, item_id: str) -> tuple[FeedbackItem, sa.Row | None]:
    """`get_item`, and the item's contact row (for `detail`) by the same statement: one round trip less."""
    try:
        key = uuid.UUID(str(item_id))
    except ValueError:
        raise NotFound() from None
    found = db.session.execute(_ITEM_AND_CONTACT, {"item_id": key}).first()
    item = access.ensure_visible(user, found[0] if found else None)
    return item, found if found.item_id is not None else None


# The columns a queue entry shows (the description cut as `summary` cuts it), read as plain rows.
# The table's columns, not the mapped attributes: a statement of plain columns skips the ORM's compile and
# result stages (`bench/intake_cost.py --case queue`).
_ITEMS = FeedbackItem.__table__
_QUEUE_COLUMNS = tuple(_ITEMS.c[name] for name in (
    "id", "tracking_code", "status", "version", "title", "category_id", "agency_id", "area_id", "created_at",
    "due_at", "assigned_to_id", "sent_back_at", "predicted_category", "prediction_probability")) + (
    sa.func.substr(_ITEMS.c.description, 1, 300).label("description"),)


def list_queue(user: StaffUser, *, page: int, page_size: int, status: str | None = None, category: str | None = None,
               area: str | None = None, overdue: bool | None = None, due_before: datetime | None = None,
               q: str | None = None, sent_back: bool | None = None) -> dict:
    now = utcnow()
    if user.role in AGENCY_ROLES and status and not (category or area or q or due_before) and sent_back is None \
            and overdue is None:  # an officer's queue by status, as officers read it: a statement built once
        return _queue_page(_AGENCY_QUEUE_BY_STATUS, {"agency_id": user.agency_id, "status": status},
                           page, page_size, now)
    query = sa.select(FeedbackItem.id)
    if user.role in AGENCY_ROLES:
        query = query.where(FeedbackItem.agency_id == user.agency_id)
    elif user.role == "coordinator" and status is None:
        query = query.where(FeedbackItem.status == "needs_triage")
    if status:
        query = query.where(FeedbackItem.status == status)
    elif user.role != "coordinator":
        query = query.where(FeedbackItem.status.in_(OPEN_STATUSES))
    if sent_back is not None:
        query = query.where(FeedbackItem.sent_back_at.is_not(None) if sent_back else FeedbackItem.sent_back_at.is_(None))
    if category:
        query = query.join(Field, Field.id == FeedbackItem.category_id).where(Field.code == category)
    if area:
        root = directory().area(area)
        if root is None:
            return _page([], 0, page, page_size)
        query = query.join(Area, Area.id == FeedbackItem.area_id).where(
            sa.or_(Area.path == root.path, Area.path.like(f"{root.path}/%")))
    if overdue is True:
        query = query.where(FeedbackItem.due_at < now, FeedbackItem.status.in_(OPEN_STATUSES))
    elif overdue is False:
        query = query.where(sa.or_(FeedbackItem.due_at.is_(None), FeedbackItem.due_at >= now))
    if due_before:
        query = query.where(FeedbackItem.due_at < due_before)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(sa.or_(
            sa.func.lower(FeedbackItem.description).like(pattern),
            sa.func.lower(FeedbackItem.title).like(pattern),
            FeedbackItem.tracking_code == q.upper(),
        ))
    return _queue_page(_paged(query), {}, page, page_size, now)


def _paged(query):
    """The page of `query` (a select of item ids under the queue's filters) in the queue's order, and its total
    by a subquery run once: one statement. Page size and offset are parameters."""
    total = sa.select(sa.func.count()).select_from(query.subquery()).scalar_subquery()
    return (query.with_only_columns(*_QUEUE_COLUMNS, total.label("total"))
            .order_by(_ITEMS.c.due_at.asc().nulls_last(), _ITEMS.c.created_at, _ITEMS.c.id)
            .limit(sa.bindparam("page_size")).offset(sa.bindparam("offset")))


_AGENCY_QUEUE_BY_STATUS = _paged(sa.select(_ITEMS.c.id).where(
    _ITEMS.c.agency_id == sa.bindparam("agency_id"), _ITEMS.c.status == sa.bindparam("status")))


def _queue_page(statement, params: dict, page: int, page_size: int, now: datetime) -> dict:
    rows = db.session.execute(statement, {**params, "page_size": page_size, "offset": (page - 1) * page_size}).all()
    if rows:
        total = rows[0].total
    elif page > 1:  # an empty page past the first: its total asked alone
        total = db.session.execute(statement, {**params, "page_size": 1, "offset": 0}).first()
        total = total.total if total else 0
    else:
        total = 0
    return _page([summary(item, now) for item in rows], total, page, page_size)


def _page(items: list, total: int, page: int, page_size: int) -> dict:
    return {"items": items,
            "pagination": {"page": page, "page_size": page_size, "total": total, "pages": -(-total // page_size)}}


def summary(item, now: datetime | None = None) -> dict:
    """A queue entry, of an item or of a row of `_QUEUE_COLUMNS`."""
    now = now or utcnow()
    return {
        "id": item.id, "tracking_code": item.tracking_code, "status": item.status, "version": item.version,
        "title": item.title, "description": item.description[:300], **directory().refs(item),
        "created_at": item.created_at, "due_at": item.due_at,
        "overdue": bool(item.due_at and item.due_at < now and item.status in OPEN_STATUSES),
        "assigned_to": item.assigned_to_id, "sent_back": item.sent_back_at is not None,
        "predicted_category": item.predicted_category, "prediction_probability": item.prediction_probability,
    }


def legal_actions(user: StaffUser, item: FeedbackItem) -> list[str]:
    from feedback_app.services.actions import ACTION_TARGETS

    moves = ALLOWED_TRANSITIONS.get(item.status, frozenset())
    legal = []
    for action, roles in access.ACTION_ROLES.items():
        if user.role not in roles or (user.role in AGENCY_ROLES and item.agency_id != user.agency_id):
            continue
        target = ACTION_TARGETS.get(action)
        if target is None or target(item) in moves:
            legal.append(action)
    return legal


# Built once, read as plain rows: an action's answer is the item's detail, and loading its events, attachments
# and contact as ORM objects cost more than the action itself.
_EVENTS = ItemEvent.__table__
_TIMELINE = (sa.select(_EVENTS.c.id, _EVENTS.c.kind, _EVENTS.c.from_status, _EVENTS.c.to_status, _EVENTS.c.actor_kind,
                       _EVENTS.c.actor_id, _EVENTS.c.public, _EVENTS.c.message, _EVENTS.c.data, _EVENTS.c.created_at)
             .where(_EVENTS.c.item_id == sa.bindparam("item_id")).order_by(_EVENTS.c.id))
_ATTACHMENTS = Attachment.__table__
_ATTACHMENT_ROWS = (sa.select(_ATTACHMENTS.c.id, _ATTACHMENTS.c.content_type, _ATTACHMENTS.c.size,
                              _ATTACHMENTS.c.uploaded_by, _ATTACHMENTS.c.public, _ATTACHMENTS.c.created_at)
                    .where(_ATTACHMENTS.c.item_id == sa.bindparam("item_id"))
                    .order_by(_ATTACHMENTS.c.created_at, _ATTACHMENTS.c.id))
_CONTACTS = ItemContact.__table__
_CONTACT = sa.select(_CONTACTS.c.name, _CONTACTS.c.phone, _CONTACTS.c.email, _CONTACTS.c.erased_at).where(
    _CONTACTS.c.item_id == sa.bindparam("item_id"))
_ITEM_AND_CONTACT = (sa.select(FeedbackItem, _CONTACTS.c.item_id, *_CONTACT.selected_columns)
                     .outerjoin(_CONTACTS, _CONTACTS.c.item_id == FeedbackItem.id)
                     .where(FeedbackItem.id == sa.bindparam("item_id")))
_UNREAD = object()
_TRACKING_CODE = sa.select(_ITEMS.c.tracking_code).where(_ITEMS.c.id == sa.bindparam("item_id"))


def detail(user: StaffUser, item: FeedbackItem, contact_row=_UNREAD) -> dict:
    """Everything staff need; the contact only for the item's own agency, and each such read is audited.
    `contact_row`: the item's contact as `get_item_and_contact` read it (None: it has none)."""
    contact = None
    if access.sees_contact(user, item):
        row = db.session.execute(_CONTACT, {"item_id": item.id}).first() if contact_row is _UNREAD else contact_row
        if row is not None and row.erased_at is None:
            contact = {"name": row.name, "phone": row.phone, "email": row.email}
            record_event(item, "contact_viewed", actor=Actor("staff", str(user.id)), public=False)
    # The plain statements below do not flush the session by themselves: the events just recorded go first.
    if db.session.new:
        db.session.flush()
    merged_into = db.session.scalar(_TRACKING_CODE, {"item_id": item.merged_into_id}) if item.merged_into_id else None
    return {
        **summary(item),
        "description": item.description,
        "etag": etag(item),
        "address": item.address, "lat": item.lat, "lon": item.lon,
        "language": item.language, "channel": item.channel, "priority": item.priority,
        "anonymous": item.anonymous, "consent_public": item.consent_public,
        "model_version": item.model_version, "routed_by": item.routed_by,
        "answer": item.answer, "rating": item.rating, "rating_comment": item.rating_comment,
        "rejection_reason": item.rejection_reason,
        "merged_into": merged_into,
        "contact": contact,
        "timeline": [
            {"id": e.id, "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status,
             "actor_kind": e.actor_kind, "actor_id": e.actor_id, "public": e.public, "message": e.message,
             "data": e.data, "at": e.created_at}
            for e in db.session.execute(_TIMELINE, {"item_id": item.id})
        ],
        "attachments": [
            {"id": a.id, "content_type": a.content_type, "size": a.size, "uploaded_by": a.uploaded_by,
             "public": a.public, "created_at": a.created_at}
            for a in db.session.execute(_ATTACHMENT_ROWS, {"item_id": item.id})
        ],
        "duplicates": [
            {"id": other.id, "tracking_code": other.tracking_code, "status": other.status, "score": score,
             "created_at": other.created_at}
            for other, score in likely_duplicates(item)
        ],
        "legal_actions": legal_actions(user, item),
    }


def get_attachment(user: StaffUser, attachment_id: str):
    try:
        key = uuid.UUID(str(attachment_id))
    except ValueError:
        return None
    attachment = db.session.get(Attachment, key)
    if attachment is None or not access.can_view(user, attachment.item):
        return None
    return attachment
