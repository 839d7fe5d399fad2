"""A citizen's submission: stored with its first event, its attachments, its routing and an outbox row."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Attachment, FeedbackItem, ItemContact
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.models.types import utcnow
from feedback_app.services.clients import Client
from feedback_app.services.directory import directory, get_area, get_field
from feedback_app.services.errors import Conflict, Forbidden, NotFound
from feedback_app.services.outbox import add_outbox_message
from feedback_app.services.routing import route_item
from feedback_app.services.storage import LocalStorage
from feedback_app.services.workflow import Actor, record_event, transition

# No 0/O, 1/I/L, U: a code read over the phone is not misheard. 31^8 is about 8.5e11.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 8


@dataclass(frozen=True)
class Upload:
    """A file already sniffed and size-checked at the boundary."""

    data: bytes
    content_type: str


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def normalise_tracking_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def citizen_actor(client: Client) -> Actor:
    return Actor("client", str(client.client_id)) if client.trusted else Actor("citizen")


def _store_attachments(item: FeedbackItem, uploads: list[Upload], storage: LocalStorage, *, event=None) -> None:
    for upload in uploads:
        blob = storage.put(upload.data, upload.content_type)
        db.session.add(
            Attachment(
                item=item, event_id=event.id if event is not None else None, sha256=blob.sha256,
                storage_key=blob.key, content_type=blob.content_type, size=blob.size, uploaded_by="citizen",
            )
        )


def submit_feedback(*, data: dict, uploads: list[Upload], client: Client, storage: LocalStorage) -> tuple[FeedbackItem, str]:
    """Returns the item and the citizen's secret token (shown once; only its hash is kept)."""
    snapshot = directory()
    citizen_category = get_field(data["category"]) if data.get("category") else None
    area, area_source = None, None
    if data.get("area_code"):
        area, area_source = get_area(data["area_code"]), "citizen"
    elif data.get("lat") is not None and data.get("lon") is not None:
        area, area_source = snapshot.area_for_point(data["lat"], data["lon"]), "point"
    if area is None and data.get("address"):
        area, area_source = snapshot.area_for_address(data["address"]), "address"
    token = secrets.token_urlsafe(24)
    # No look-up first: a clash (about one in a million submissions at a million items) fails the
    # unique index at commit, and the view's transaction runs again with a new code.
    code = new_tracking_code()
    now = utcnow()
    item = FeedbackItem(
        id=uuid.uuid4(),
        tracking_code=code,
        citizen_token_hash=hash_token(token),
        status="received",
        title=data.get("title"),
        description=data["description"],
        language=data.get("language") or "vi",
        channel=data.get("channel") or ("app" if client.trusted else "web"),
        anonymous=bool(data.get("anonymous")),
        consent_public=bool(data.get("consent_public")),
        lat=data.get("lat"),
        lon=data.get("lon"),
        address=data.get("address"),
        area_id=area.id if area else None,
        area_source=area_source if area else None,
        citizen_category_id=citizen_category.id if citizen_category else None,
        client_id=str(client.client_id) if client.client_id else None,
        external_ref=data.get("external_ref"),
        created_at=now,
        updated_at=now,
    )
    db.session.add(item)
    contact = data.get("contact") or {}
    # An anonymous citizen's contact is not kept at all: what is not stored cannot leak.
    if not item.anonymous and any(contact.get(k) for k in ("name", "phone", "email")):
        db.session.add(ItemContact(item=item, name=contact.get("name"), phone=contact.get("phone"), email=contact.get("email")))
    record_event(item, "received", actor=citizen_actor(client), to_status="received", now=now,
                 data={"channel": item.channel, "attachments": len(uploads)})
    _store_attachments(item, uploads, storage)
    route_item(item, area=area)
    add_outbox_message(topic="item.received", job_key=f"item.received:{item.id}", payload={"item_id": str(item.id)})
    # One flush: the item is inserted in its routed state with both events, in one round of statements.
    db.session.flush()
    return item, token


def find_item(tracking_code: str) -> FeedbackItem:
    item = db.session.scalar(
        sa.select(FeedbackItem).where(FeedbackItem.tracking_code == normalise_tracking_code(tracking_code))
    )
    if item is None:
        raise NotFound("item_not_found")
    return item


def authorise_citizen(item: FeedbackItem, token: str | None, client: Client) -> None:
    """The secret from the submission, or the trusted app backend that submitted it."""
    if client.trusted and item.client_id == str(client.client_id) and "intake" in client.scopes:
        return
    if not token or not hmac.compare_digest(hash_token(token), item.citizen_token_hash):
        raise Forbidden("invalid_citizen_token")


def add_citizen_message(*, item: FeedbackItem, message: str, uploads: list[Upload], client: Client,
                        storage: LocalStorage):
    """More information from the citizen; it brings an item waiting for the citizen back to its agency."""
    if item.status not in OPEN_STATUSES:
        raise Conflict("item_closed_for_messages", errors={"status": [item.status]})
    actor = citizen_actor(client)
    # The text may hold personal details: staff see it, the public timeline does not.
    event = record_event(item, "citizen_message", actor=actor, message=message, public=False,
                         data={"attachments": len(uploads)})
    db.session.flush()
    _store_attachments(item, uploads, storage, event=event)
    if item.status == "waiting_citizen":
        transition(item, "in_progress", actor=actor, data={"reason": "citizen_replied"})
    item.updated_at = utcnow()
    db.session.flush()
    add_outbox_message(topic="item.citizen_message", job_key=f"item.citizen_message:{item.id}:{event.id}",
                       payload={"item_id": str(item.id), "event_id": event.id})
    return event
