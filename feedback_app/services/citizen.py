"""What a citizen does after submitting: add information, rate the answer (and reopen it when unsatisfied)."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.services import bulk
from feedback_app.models import Attachment, FeedbackItem
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.models.types import utcnow
from feedback_app.services.clients import Client
from feedback_app.services.errors import Conflict, Forbidden, NotFound
from feedback_app.services.outbox import add_item_message
from feedback_app.services.storage import LocalStorage
from feedback_app.services.workflow import Actor, record_event, transition

REOPEN_WINDOW = timedelta(days=14)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def citizen_actor(client: Client) -> Actor:
    return Actor("client", str(client.client_id)) if client.trusted else Actor("citizen")


def normalise_tracking_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


# Built once (building a statement and its cache key on every request costs about as much as running it).
_BY_CODE = sa.select(FeedbackItem).where(FeedbackItem.tracking_code == sa.bindparam("code"))


def find_item(tracking_code: str) -> FeedbackItem:
    item = db.session.scalar(_BY_CODE, {"code": normalise_tracking_code(tracking_code)})
    if item is None:
        raise NotFound("item_not_found")
    return item


def authorise_citizen(item: FeedbackItem, token: str | None, client: Client) -> None:
    """The secret from the submission, or the trusted app backend that submitted it."""
    if client.trusted and item.client_id == str(client.client_id) and "intake" in client.scopes:
        return
    if not token or not hmac.compare_digest(hash_token(token), item.citizen_token_hash):
        raise Forbidden("invalid_citizen_token")


def store_attachments(item: FeedbackItem, uploads, storage: LocalStorage, *, uploaded_by: str, event=None) -> list:
    rows = []
    for upload in uploads:
        blob = storage.put(upload.data, upload.content_type)
        row = Attachment(id=uuid.uuid4(), item=item, event_id=event.id if event is not None else None, sha256=blob.sha256,
                         storage_key=blob.key, content_type=blob.content_type, size=blob.size, uploaded_by=uploaded_by)
        bulk.add(row)
        rows.append(row)
    return rows


def add_citizen_message(*, item: FeedbackItem, message: str, uploads, client: Client, storage: LocalStorage):
    """More information from the citizen; it brings an item waiting for the citizen back to its agency."""
    if item.status not in OPEN_STATUSES:
        raise Conflict("item_closed_for_messages", errors={"status": [item.status]})
    actor = citizen_actor(client)
    # The text may hold personal details: staff see it, the public timeline does not.
    event = record_event(item, "citizen_message", actor=actor, message=message, public=False,
                         data={"attachments": len(uploads)})
    db.session.flush()
    store_attachments(item, uploads, storage, uploaded_by="citizen", event=event)
    if item.status == "waiting_citizen":
        transition(item, "in_progress", actor=actor, data={"reason": "citizen_replied"})
    item.updated_at = utcnow()
    db.session.flush()
    add_item_message(item, topic="item.citizen_message", job_key=f"item.citizen_message:{item.id}:{event.id}",
                     payload={"item_id": str(item.id), "event_id": event.id})
    return event


def rate_item(*, item: FeedbackItem, rating: int, comment: str | None, client: Client):
    """A rating of a resolved item; 1 or 2 within 14 days reopens it to the same agency, else it closes."""
    if item.status != "resolved":
        raise Conflict("rating_not_allowed", errors={"status": [item.status]})
    now = utcnow()
    actor = citizen_actor(client)
    item.rating, item.rating_comment, item.rated_at = rating, comment, now
    record_event(item, "rating", actor=actor, public=True, data={"rating": rating}, now=now)
    if rating <= 2 and item.resolved_at and now - item.resolved_at <= REOPEN_WINDOW:
        event = transition(item, "reopened", actor=actor, data={"reason": "unsatisfied", "rating": rating}, now=now)
    else:
        event = transition(item, "closed", actor=actor, data={"reason": "rated", "rating": rating}, now=now)
    db.session.flush()
    add_item_message(item, topic=f"item.{item.status}", job_key=f"item.{item.status}:{item.id}:{event.id}",
                     payload={"item_id": str(item.id), "event_id": event.id})
    return event
