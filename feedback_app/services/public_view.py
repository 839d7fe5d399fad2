"""What the public may see of an item: no contact, no personal details in the text, no internal notes."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from feedback_app.extensions import db
from feedback_app.models import Area, Attachment, FeedbackItem, ItemEvent
from feedback_app.services.citizen import find_item, normalise_tracking_code
from feedback_app.services.directory import directory, find_area
from feedback_app.services.errors import NotFound

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
# Phone-like runs of 8+ digits with spaces, dots or dashes (0912 345 678, +84.912.345.678).
PHONE = re.compile(r"(?<!\w)\+?\d(?:[ .\-()]?\d){7,14}(?!\w)")
ID_NUMBER = re.compile(r"(?<!\d)\d{9}(?:\d{3})?(?!\d)")


def mask_personal_data(text: str | None) -> str | None:
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[số điện thoại]", text)
    return ID_NUMBER.sub("[số giấy tờ]", text)


def _fold_char(char: str) -> str:
    """One character without its diacritics, lower case: the folded text keeps every index of the original."""
    return "d" if char in "đĐ" else unicodedata.normalize("NFD", char)[0].lower()[:1]


def mask_names(text: str | None, names: list[str]) -> str | None:
    """Replace these people's names (full, or without the family name), typed with or without diacritics."""
    if not text or not names:
        return text
    folded = "".join(_fold_char(char) for char in text)
    spans = []
    for name in names:
        parts = name.split()
        for variant in {tuple(parts), tuple(parts[1:]) if len(parts) >= 3 else ()}:
            if variant:
                words = r"\s+".join(re.escape("".join(map(_fold_char, word))) for word in variant)
                spans += [m.span() for m in re.finditer(rf"(?<!\w){words}(?!\w)", folded)]
    merged: list[list[int]] = []
    for start, end in sorted(spans):  # "Văn Thử" lies inside "Nguyễn Văn Thử": one mask for both
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + "[họ tên]" + text[end:]
    return text


# Built once, read as plain rows: the tracking view is the most read page, and loading the item's events and
# attachments as ORM collections cost more than the rest of it. Only the public ones leave the database.
_EVENTS = ItemEvent.__table__
_PUBLIC_EVENTS = (sa.select(_EVENTS.c.kind, _EVENTS.c.to_status, _EVENTS.c.created_at, _EVENTS.c.actor_kind,
                            _EVENTS.c.message)
                  .where(_EVENTS.c.item_id == sa.bindparam("item_id"), _EVENTS.c.public.is_(True))
                  .order_by(_EVENTS.c.id))
_ATTACHMENTS = Attachment.__table__
_PUBLIC_ATTACHMENTS = (sa.select(_ATTACHMENTS)
                       .where(_ATTACHMENTS.c.item_id == sa.bindparam("item_id"), _ATTACHMENTS.c.public.is_(True))
                       .order_by(_ATTACHMENTS.c.created_at, _ATTACHMENTS.c.id))


def _entry(kind: str, status: str | None, at: datetime, actor_kind: str, message: str | None) -> dict:
    return {
        "kind": kind,
        "status": status,
        "at": at,
        "actor": "citizen" if actor_kind in ("citizen", "client") else ("agency" if actor_kind == "staff" else "system"),
        "message": mask_personal_data(message),
    }


def public_timeline(item: FeedbackItem) -> list[dict]:
    return [_entry(e.kind, e.to_status, e.created_at, e.actor_kind, e.message)
            for e in db.session.execute(_PUBLIC_EVENTS, {"item_id": item.id})]


def public_view(item: FeedbackItem, *, with_timeline: bool = True) -> dict:
    return _view(item, public_attachments(item), public_timeline(item) if with_timeline else [], _original(item))


def _view(item, attachments: list, timeline: list[dict], original: dict | None) -> dict:
    """The view of `item` (an ORM item or a row with its columns) given its public attachments and events."""
    shown = item.consent_public
    return {
        "tracking_code": item.tracking_code,
        "status": item.status,
        # The citizen's words are public only with consent, and even then without phone numbers or e-mails.
        "title": mask_personal_data(item.title) if shown else None,
        "description": mask_personal_data(item.description) if shown else None,
        **directory().refs(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "due_at": item.due_at,
        "resolved_at": item.resolved_at,
        "answer": item.answer,
        "rating": item.rating,
        "merged_into": original,
        "attachments": attachments,
        "timeline": timeline,
    }


def public_attachments(item: FeedbackItem) -> list:
    """The agency's evidence always; the citizen's own photos only with their consent (rows with the
    attachment's columns as attributes)."""
    return [a for a in db.session.execute(_PUBLIC_ATTACHMENTS, {"item_id": item.id})
            if item.consent_public or a.uploaded_by != "citizen"]


def _original(item: FeedbackItem) -> dict | None:
    if item.merged_into_id is None:
        return None
    original = db.session.get(FeedbackItem, item.merged_into_id)
    return {"tracking_code": original.tracking_code, "status": original.status, "answer": original.answer}


# The tracking view on PostgreSQL: one statement, one round trip. The item's columns, its original's (when
# merged) by a join, and its public events and attachments as JSON arrays, each in the order and under the
# conditions of the statements above. Instants leave as UTC text with microseconds, whatever the session's zone.
_ITEMS = FeedbackItem.__table__
_ORIGINAL = _ITEMS.alias("original")


def _utc_text(column):
    return sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')


def _json_rows(*values, order_by, where):
    return sa.select(sa.func.coalesce(
        sa.func.json_agg(aggregate_order_by(sa.func.json_build_array(*values), *order_by)),
        sa.literal_column("'[]'::json"))).where(*where).scalar_subquery()


_TRACKED = sa.select(
    _ITEMS.c.id, _ITEMS.c.tracking_code, _ITEMS.c.status, _ITEMS.c.title, _ITEMS.c.description,
    _ITEMS.c.consent_public, _ITEMS.c.category_id, _ITEMS.c.agency_id, _ITEMS.c.area_id, _ITEMS.c.created_at,
    _ITEMS.c.updated_at, _ITEMS.c.due_at, _ITEMS.c.resolved_at, _ITEMS.c.answer, _ITEMS.c.rating,
    _ITEMS.c.merged_into_id,
    _ORIGINAL.c.tracking_code.label("original_code"), _ORIGINAL.c.status.label("original_status"),
    _ORIGINAL.c.answer.label("original_answer"),
    _json_rows(_EVENTS.c.kind, _EVENTS.c.to_status, _utc_text(_EVENTS.c.created_at), _EVENTS.c.actor_kind,
               _EVENTS.c.message, order_by=[_EVENTS.c.id],
               where=[_EVENTS.c.item_id == _ITEMS.c.id, _EVENTS.c.public.is_(True)]).label("events"),
    _json_rows(_ATTACHMENTS.c.id, _ATTACHMENTS.c.content_type, _ATTACHMENTS.c.size,
               order_by=[_ATTACHMENTS.c.created_at, _ATTACHMENTS.c.id],
               where=[_ATTACHMENTS.c.item_id == _ITEMS.c.id, _ATTACHMENTS.c.public.is_(True),
                      sa.or_(_ITEMS.c.consent_public, _ATTACHMENTS.c.uploaded_by != "citizen")]).label("attachments"),
).select_from(_ITEMS.outerjoin(_ORIGINAL, _ORIGINAL.c.id == _ITEMS.c.merged_into_id)).where(
    _ITEMS.c.tracking_code == sa.bindparam("code"))


class PublicAttachment(NamedTuple):
    id: str
    content_type: str
    size: int


def tracking_view(tracking_code: str) -> dict:
    """`public_view(find_item(tracking_code))`, on PostgreSQL in one round trip (SQLite: three statements)."""
    if db.engine.dialect.name != "postgresql":
        return public_view(find_item(tracking_code))
    row = db.session.execute(_TRACKED, {"code": normalise_tracking_code(tracking_code)}).first()
    if row is None:
        raise NotFound("item_not_found")
    timeline = [_entry(kind, status, datetime.fromisoformat(at).replace(tzinfo=timezone.utc), actor_kind, message)
                for kind, status, at, actor_kind, message in row.events]
    original = None if row.merged_into_id is None else {
        "tracking_code": row.original_code, "status": row.original_status, "answer": row.original_answer}
    return _view(row, [PublicAttachment(*a) for a in row.attachments], timeline, original)


def public_feed(*, page: int, page_size: int, area: str | None = None, category: str | None = None, status: str | None = None) -> dict:
    from feedback_app.models import Field

    query = sa.select(FeedbackItem).where(FeedbackItem.consent_public.is_(True))
    if area:
        root = find_area(area)
        if root is None:
            return {"items": [], "pagination": {"page": page, "page_size": page_size, "total": 0, "pages": 0}}
        query = query.join(Area, Area.id == FeedbackItem.area_id).where(
            sa.or_(Area.path == root.path, Area.path.like(f"{root.path}/%"))
        )
    if category:
        query = query.join(Field, Field.id == FeedbackItem.category_id).where(Field.code == category)
    if status:
        query = query.where(FeedbackItem.status == status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(FeedbackItem.created_at.desc(), FeedbackItem.id).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return {
        "items": [public_view(item, with_timeline=False) for item in rows],
        "pagination": {"page": page, "page_size": page_size, "total": total, "pages": -(-total // page_size)},
    }
