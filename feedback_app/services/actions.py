"""Staff actions on an item: each checks role and agency, goes through `transition`, writes its event."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Agency, Attachment, FeedbackItem, Field, StaffUser
from feedback_app.models.types import utcnow
from feedback_app.services import access
from feedback_app.services.errors import Conflict, IllegalTransition, NotFound, PreconditionFailed, Unprocessable
from feedback_app.services.outbox import add_item_message
from feedback_app.services.workflow import ALLOWED_TRANSITIONS, Actor, legal_moves, record_event, transition

# The state each action moves to (None: the action changes no state, only records).
ACTION_TARGETS: dict[str, Callable[[FeedbackItem], str] | None] = {
    "route": lambda item: "routed",
    "accept": lambda item: "in_progress",
    "assign": None,
    "request_info": lambda item: "waiting_citizen",
    "respond": None,
    "resolve": lambda item: "resolved",
    "reject": lambda item: "rejected",
    "send_back": lambda item: "needs_triage",
    "merge": lambda item: "closed",
    "note": None,
}
# Record-only actions still need the item to be in a state where they make sense.
RECORD_STATES = {
    "assign": {"routed", "in_progress", "waiting_citizen", "reopened"},
    "respond": {"in_progress", "waiting_citizen", "reopened"},
    "note": set(ALLOWED_TRANSITIONS),
}
REJECT_REASONS = ("spam", "duplicate", "out_of_scope", "other")


def check_version(item: FeedbackItem, if_match: str | None) -> None:
    from feedback_app.services.triage import etag

    if not if_match:
        raise Unprocessable("precondition_required", errors={"If-Match": ["required: the item's ETag"]})
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in wanted and etag(item) not in wanted:
        raise PreconditionFailed(errors={"version": [item.version]})


def _answer_text(item: FeedbackItem, payload: dict, language: str) -> str | None:
    if payload.get("text"):
        return payload["text"]
    code = payload.get("template")
    if not code:
        return None
    field = db.session.get(Field, item.category_id) if item.category_id else None
    for template in (field.answer_templates if field else []) or []:
        if template.get("code") == code:
            return template.get(f"text_{language}") or template.get("text_vi")
    raise Unprocessable(errors={"template": [f"no template '{code}' for this field"]})


def _agency(code: str) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code, Agency.active.is_(True)))
    if agency is None:
        raise Unprocessable(errors={"agency": [f"unknown agency '{code}'"]})
    return agency


def perform_action(*, item: FeedbackItem, user: StaffUser, payload: dict, if_match: str | None) -> dict:
    action = payload["action"]
    access.ensure_may_act(user, item, action)
    check_version(item, if_match)
    target = ACTION_TARGETS[action]
    if target is None and item.status not in RECORD_STATES[action]:
        raise IllegalTransition(errors={"legal_moves": legal_moves(item.status)}, from_status=item.status, to_status=action)
    actor = Actor("staff", str(user.id))
    # The action's changes reach the database in its one flush, not half of them earlier because a handler
    # read a row it needs (the resolve's field): one UPDATE of the item, one version step per action.
    with db.session.no_autoflush:
        event = HANDLERS[action](item, user, actor, payload)
        item.updated_at = utcnow()  # every action bumps the version, even a note
    db.session.flush()
    if event.public or event.to_status:
        add_item_message(item, topic=f"item.{action}", job_key=f"item.{action}:{item.id}:{event.id}",
                         payload={"item_id": str(item.id), "event_id": event.id})
    return {"event_id": event.id, "action": action}


def _route(item, user, actor, payload):
    agency = _agency(payload["agency"])
    field = db.session.get(Field, item.category_id) if item.category_id else None
    if payload.get("category"):
        field = db.session.scalar(sa.select(Field).where(Field.code == payload["category"], Field.active.is_(True)))
        if field is None:
            raise Unprocessable(errors={"category": [f"unknown category '{payload['category']}'"]})
    if field is None:
        raise Unprocessable(errors={"category": ["the item has no field yet: give one"]})
    previous = {"agency_id": item.agency_id, "category_id": item.category_id}
    item.agency_id, item.category_id, item.routed_by = agency.id, field.id, "staff"
    item.sent_back_at = None
    # A staff route is a training label: the final field, as a person decided it.
    return transition(item, "routed", actor=actor, message=payload.get("message"), public=True,
                      data={"agency": agency.code, "category": field.code, "label": field.code,
                            "previous": previous, "correction": previous["category_id"] not in (None, field.id)})


def _accept(item, user, actor, payload):
    if item.assigned_to_id is None and user.role in ("officer", "agency_admin"):
        item.assigned_to_id = user.id
    return transition(item, "in_progress", actor=actor, message=payload.get("message"))


def _assign(item, user, actor, payload):
    assignee = db.session.scalar(sa.select(StaffUser).where(StaffUser.username == payload["assignee"]))
    if assignee is None or assignee.agency_id != item.agency_id or not assignee.active:
        raise Unprocessable(errors={"assignee": ["not an active officer of this item's agency"]})
    if user.role == "officer" and assignee.id != user.id:
        raise Unprocessable(errors={"assignee": ["an officer can assign only themself"]})
    item.assigned_to_id = assignee.id
    return record_event(item, "assigned", actor=actor, public=False, data={"assignee": assignee.username})


def _request_info(item, user, actor, payload):
    return transition(item, "waiting_citizen", actor=actor, message=payload["message"], public=True)


def _respond(item, user, actor, payload):
    text = _answer_text(item, payload, payload.get("language", "vi"))
    if not text:
        raise Unprocessable(errors={"text": ["give text or a template"]})
    item.answer, item.answered_at = text, utcnow()
    return record_event(item, "answer", actor=actor, message=text, public=True)


def _resolve(item, user, actor, payload):
    text = _answer_text(item, payload, payload.get("language", "vi"))
    if text:
        item.answer, item.answered_at = text, utcnow()
    if not item.answer:
        raise Unprocessable("answer_required", errors={"text": ["an answer is needed to resolve"]})
    evidence_ids = [uuid.UUID(str(a)) for a in payload.get("attachment_ids") or []]
    if evidence_ids:
        found = db.session.scalars(sa.select(Attachment.id).where(
            Attachment.id.in_(evidence_ids), Attachment.item_id == item.id, Attachment.uploaded_by == "staff")).all()
        if len(found) != len(set(evidence_ids)):
            raise Unprocessable(errors={"attachment_ids": ["evidence must be attachments staff added to this item"]})
    field = db.session.get(Field, item.category_id) if item.category_id else None
    needs_evidence = field is None or field.resolution_evidence == "required"
    if needs_evidence and not evidence_ids and not payload.get("evidence_reason"):
        raise Unprocessable("evidence_required", errors={"attachment_ids": ["or evidence_reason"]})
    return transition(item, "resolved", actor=actor, message=item.answer, public=True,
                      data={"evidence": [str(a) for a in evidence_ids], "evidence_reason": payload.get("evidence_reason")})


def _reject(item, user, actor, payload):
    item.rejection_reason = payload["reason"]
    return transition(item, "rejected", actor=actor, message=payload["message"], public=True,
                      data={"reason": payload["reason"]})


def _send_back(item, user, actor, payload):
    previous = item.agency_id
    item.agency_id, item.sent_back_at, item.assigned_to_id = None, utcnow(), None
    event = transition(item, "needs_triage", actor=actor, message=payload["message"], public=False,
                       data={"previous_agency_id": previous, "reason": "not_ours"})
    return event


def _merge(item, user, actor, payload):
    ref = str(payload["duplicate_of"]).strip()
    original = None
    try:
        original = db.session.get(FeedbackItem, uuid.UUID(ref))
    except ValueError:
        original = db.session.scalar(sa.select(FeedbackItem).where(FeedbackItem.tracking_code == ref.upper()))
    if original is None or original.id == item.id or not access.can_view(user, original):
        raise NotFound(errors={"duplicate_of": ["no such item"]})
    if original.merged_into_id is not None:
        raise Conflict(errors={"duplicate_of": ["that item is itself merged; merge into its original"]})
    item.merged_into_id = original.id
    record_event(original, "duplicate_merged", actor=actor, public=False, data={"duplicate": item.tracking_code})
    return transition(item, "closed", actor=actor, message=payload.get("message"), public=True,
                      data={"merged_into": original.tracking_code})


def _note(item, user, actor, payload):
    return record_event(item, "note", actor=actor, message=payload["message"], public=False)


HANDLERS = {
    "route": _route, "accept": _accept, "assign": _assign, "request_info": _request_info, "respond": _respond,
    "resolve": _resolve, "reject": _reject, "send_back": _send_back, "merge": _merge, "note": _note,
}
