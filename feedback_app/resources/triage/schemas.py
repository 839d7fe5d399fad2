"""Triage schemas: the queue's filters, the item views, and one action body validated per action."""
from __future__ import annotations

import marshmallow as ma

from feedback_app.models.feedback import STATUSES
from feedback_app.resources.feedback.schemas import NamedRefSchema, PageMetaSchema, _local, _ref
from feedback_app.resources.fields import LocalDateTime, QueryText, StrictSchema
from feedback_app.services.access import ACTION_ROLES
from feedback_app.services.actions import REJECT_REASONS

# Which fields each action takes (required ones first); anything else is refused.
ACTION_FIELDS = {
    "route": ({"agency"}, {"category", "message"}),
    "accept": (set(), {"message"}),
    "assign": ({"assignee"}, set()),
    "request_info": ({"message"}, set()),
    "respond": (set(), {"text", "template", "language"}),
    "resolve": (set(), {"text", "template", "language", "attachment_ids", "evidence_reason"}),
    "reject": ({"reason", "message"}, set()),
    "send_back": ({"message"}, set()),
    "merge": ({"duplicate_of"}, {"message"}),
    "note": ({"message"}, set()),
}


class QueueQuerySchema(StrictSchema):
    status = QueryText(validate=ma.validate.OneOf(STATUSES))
    category = QueryText(validate=ma.validate.Length(1, 64))
    area = QueryText(validate=ma.validate.Length(1, 32))
    overdue = ma.fields.Boolean()
    due_before = ma.fields.AwareDateTime(default_timezone=None)
    q = QueryText(validate=ma.validate.Length(1, 200))
    sent_back = ma.fields.Boolean()
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))
    page_size = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100))


class QueueItemSchema(ma.Schema):
    id = ma.fields.UUID()
    tracking_code = ma.fields.String()
    status = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    category = ma.fields.Nested(NamedRefSchema, allow_none=True)
    agency = ma.fields.Nested(NamedRefSchema, allow_none=True)
    area = ma.fields.Nested(NamedRefSchema, allow_none=True)
    created_at = LocalDateTime()
    due_at = LocalDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    assigned_to = ma.fields.Integer(allow_none=True)
    sent_back = ma.fields.Boolean()
    predicted_category = ma.fields.String(allow_none=True)
    prediction_probability = ma.fields.Float(allow_none=True)


class QueuePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(QueueItemSchema))
    pagination = ma.fields.Nested(PageMetaSchema)


def dump_queue_page(page: dict) -> dict:
    """What `QueuePageSchema().dump(page)` gives, written by hand: an officer's queue is read ~13 times a second
    and the schema's dump of a 20-item page was a third of it. A test holds the two equal."""
    meta = page["pagination"]
    return {
        "items": [_queue_item(item) for item in page["items"]],
        "pagination": {"page": meta["page"], "page_size": meta["page_size"], "total": meta["total"],
                       "pages": meta["pages"]},
    }


def _queue_item(item: dict) -> dict:
    """`QueueItemSchema().dump(item)` by hand; the start of an item's detail too."""
    return {
        "id": str(item["id"]),
        "tracking_code": item["tracking_code"],
        "status": item["status"],
        "version": item["version"],
        "title": item["title"],
        "description": item["description"],
        "category": _ref(item["category"]),
        "agency": _ref(item["agency"]),
        "area": _ref(item["area"]),
        "created_at": _local(item["created_at"]),
        "due_at": _local(item["due_at"]),
        "overdue": item["overdue"],
        "assigned_to": item["assigned_to"],
        "sent_back": item["sent_back"],
        "predicted_category": item["predicted_category"],
        "prediction_probability": item["prediction_probability"],
    }


class StaffContactSchema(ma.Schema):
    name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)


class EventSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    actor_kind = ma.fields.String()
    actor_id = ma.fields.String(allow_none=True)
    public = ma.fields.Boolean()
    message = ma.fields.String(allow_none=True)
    data = ma.fields.Dict()
    at = LocalDateTime()


class StaffAttachmentSchema(ma.Schema):
    id = ma.fields.UUID()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    uploaded_by = ma.fields.String()
    public = ma.fields.Boolean()
    created_at = LocalDateTime()


class DuplicateSchema(ma.Schema):
    id = ma.fields.UUID()
    tracking_code = ma.fields.String()
    status = ma.fields.String()
    score = ma.fields.Float()
    created_at = LocalDateTime()


class ItemDetailSchema(QueueItemSchema):
    etag = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    language = ma.fields.String()
    channel = ma.fields.String()
    priority = ma.fields.String()
    anonymous = ma.fields.Boolean()
    consent_public = ma.fields.Boolean()
    model_version = ma.fields.String(allow_none=True)
    routed_by = ma.fields.String(allow_none=True)
    answer = ma.fields.String(allow_none=True)
    rating = ma.fields.Integer(allow_none=True)
    rating_comment = ma.fields.String(allow_none=True)
    rejection_reason = ma.fields.String(allow_none=True)
    merged_into = ma.fields.String(allow_none=True)
    contact = ma.fields.Nested(StaffContactSchema, allow_none=True,
                               metadata={"description": "Only for the staff of the item's own agency; each read is audited."})
    timeline = ma.fields.List(ma.fields.Nested(EventSchema))
    attachments = ma.fields.List(ma.fields.Nested(StaffAttachmentSchema))
    duplicates = ma.fields.List(ma.fields.Nested(DuplicateSchema))
    legal_actions = ma.fields.List(ma.fields.String())


def dump_detail(item: dict) -> dict:
    """What `ItemDetailSchema().dump(item)` gives, written by hand: the answer of an item's view and of every
    action on it. A test holds the two equal."""
    contact = item["contact"]
    return {
        **_queue_item(item),
        "etag": item["etag"],
        "address": item["address"],
        "lat": item["lat"],
        "lon": item["lon"],
        "language": item["language"],
        "channel": item["channel"],
        "priority": item["priority"],
        "anonymous": item["anonymous"],
        "consent_public": item["consent_public"],
        "model_version": item["model_version"],
        "routed_by": item["routed_by"],
        "answer": item["answer"],
        "rating": item["rating"],
        "rating_comment": item["rating_comment"],
        "rejection_reason": item["rejection_reason"],
        "merged_into": item["merged_into"],
        "contact": None if contact is None else {
            "name": contact["name"], "phone": contact["phone"], "email": contact["email"]},
        "timeline": [{"id": e["id"], "kind": e["kind"], "from_status": e["from_status"], "to_status": e["to_status"],
                      "actor_kind": e["actor_kind"], "actor_id": e["actor_id"], "public": e["public"],
                      "message": e["message"], "data": None if e["data"] is None else dict(e["data"]),
                      "at": _local(e["at"])} for e in item["timeline"]],
        "attachments": [{"id": str(a["id"]), "content_type": a["content_type"], "size": a["size"],
                         "uploaded_by": a["uploaded_by"], "public": a["public"],
                         "created_at": _local(a["created_at"])} for a in item["attachments"]],
        "duplicates": [{"id": str(d["id"]), "tracking_code": d["tracking_code"], "status": d["status"],
                        "score": d["score"], "created_at": _local(d["created_at"])} for d in item["duplicates"]],
        "legal_actions": list(item["legal_actions"]),
    }


class ActionSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(ACTION_ROLES)))
    agency = ma.fields.String(validate=ma.validate.Length(1, 64))
    category = ma.fields.String(validate=ma.validate.Length(1, 64))
    assignee = ma.fields.String(validate=ma.validate.Length(1, 64))
    message = ma.fields.String(validate=ma.validate.Length(1, 4000))
    text = ma.fields.String(validate=ma.validate.Length(1, 8000))
    template = ma.fields.String(validate=ma.validate.Length(1, 64))
    language = ma.fields.String(validate=ma.validate.OneOf(("vi", "en")))
    attachment_ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(max=20))
    evidence_reason = ma.fields.String(validate=ma.validate.Length(1, 2000))
    reason = ma.fields.String(validate=ma.validate.OneOf(REJECT_REASONS))
    duplicate_of = ma.fields.String(validate=ma.validate.Length(1, 64))

    @ma.validates_schema
    def _fields_fit_the_action(self, data, **kwargs):
        action = data.get("action")
        if action not in ACTION_FIELDS:
            return
        required, optional = ACTION_FIELDS[action]
        errors = {name: ["Missing data for required field."] for name in required if name not in data}
        for name in set(data) - required - optional - {"action"}:
            errors[name] = [f"not taken by the action '{action}'"]
        if errors:
            raise ma.ValidationError(errors)


class ActionResultSchema(ma.Schema):
    action = ma.fields.String()
    event_id = ma.fields.Integer()
    item = ma.fields.Nested(ItemDetailSchema)


def dump_action_result(result: dict) -> dict:
    """What `ActionResultSchema().dump(result)` gives, written by hand (the item's detail by `dump_detail`)."""
    return {"action": result["action"], "event_id": result["event_id"], "item": dump_detail(result["item"])}


class UploadedSchema(ma.Schema):
    attachments = ma.fields.List(ma.fields.Nested(StaffAttachmentSchema))
