"""A citizen's submission: stored with its first event, its attachments, its routing and an outbox row."""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from feedback_app.extensions import db
from feedback_app.models import FeedbackItem, ItemContact
from feedback_app.models.types import local_day, utcnow
from feedback_app.services import bulk
from feedback_app.services.citizen import citizen_actor, hash_token, store_attachments
from feedback_app.services.clients import Client
from feedback_app.services.directory import directory, get_area, get_field
from feedback_app.services.outbox import add_item_message
from feedback_app.services.routing import route_item
from feedback_app.services.storage import LocalStorage
from feedback_app.services.workflow import record_event

# No 0/O, 1/I/L, U: a code read over the phone is not misheard. 30^8 is about 6.6e11.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
TRACKING_LENGTH = 8


@dataclass(frozen=True)
class Upload:
    """A file already sniffed and size-checked at the boundary."""

    data: bytes
    content_type: str


def new_tracking_code() -> str:
    # One draw for the whole code, written in base 30: as uniform as eight draws of a letter, and one call.
    number, letters = secrets.randbelow(len(TRACKING_ALPHABET) ** TRACKING_LENGTH), []
    for _ in range(TRACKING_LENGTH):
        number, digit = divmod(number, len(TRACKING_ALPHABET))
        letters.append(TRACKING_ALPHABET[digit])
    return "".join(letters)


def submit_feedback(*, data: dict, uploads: list[Upload], client: Client, storage: LocalStorage,
                    last_write: bool = False) -> tuple[FeedbackItem, str]:
    """Returns the item and the citizen's secret token (shown once; only its hash is kept).

    `last_write=True`: the caller writes nothing more in this transaction (see `bulk.insert_pending`)."""
    # No autoflush: a cache refreshing mid-way must not push a half-built item to the database.
    with db.session.no_autoflush, bulk.collecting():
        return _submit(data=data, uploads=uploads, client=client, storage=storage, last_write=last_write)


def _submit(*, data: dict, uploads: list[Upload], client: Client, storage: LocalStorage,
            last_write: bool) -> tuple[FeedbackItem, str]:
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
    item = bulk.add_new(
        FeedbackItem,
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
        created_day=local_day(now),
        updated_at=now,
    )
    contact = data.get("contact") or {}
    # An anonymous citizen's contact is not kept at all: what is not stored cannot leak.
    if not item.anonymous and any(contact.get(k) for k in ("name", "phone", "email")):
        bulk.add_new(ItemContact, item_id=item.id, name=contact.get("name"), phone=contact.get("phone"),
                     email=contact.get("email"))
    record_event(item, "received", actor=citizen_actor(client), to_status="received", now=now,
                 data={"channel": item.channel, "attachments": len(uploads), "area": area.code if area else None})
    store_attachments(item, uploads, storage, uploaded_by="citizen")
    route_item(item, area=area)
    add_item_message(item, topic="item.received", job_key=f"item.received:{item.id}", payload={"item_id": str(item.id)})
    # Everything here is new: one bulk INSERT per table, the item already in its routed state.
    bulk.insert_pending(last_write=last_write)
    return item, token
