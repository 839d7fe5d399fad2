"""The one way an item changes state: a table of legal moves, a stamped time, an event, a new version."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedback_app.services import bulk
from feedback_app.models import FeedbackItem, ItemEvent
from feedback_app.models.types import utcnow
from feedback_app.services.errors import IllegalTransition

# "closed" from an open state is a merge: the duplicate closes into its original.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"routed", "needs_triage", "rejected", "closed"}),
    "needs_triage": frozenset({"routed", "rejected", "closed"}),
    "routed": frozenset({"routed", "in_progress", "needs_triage", "rejected", "closed"}),
    "in_progress": frozenset({"routed", "waiting_citizen", "resolved", "needs_triage", "rejected", "closed"}),
    "waiting_citizen": frozenset({"in_progress", "resolved", "rejected", "closed"}),
    "resolved": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"routed", "in_progress", "resolved", "needs_triage", "rejected", "closed"}),
    "closed": frozenset(),
    "rejected": frozenset(),
}

# The column each state stamps; the first time only for the ones a report counts from.
STAMPS = {
    "routed": "routed_at",
    "needs_triage": "triaged_at",
    "in_progress": "accepted_at",
    "resolved": "resolved_at",
    "reopened": "reopened_at",
    "closed": "closed_at",
    "rejected": "rejected_at",
}
FIRST_ONLY = {"accepted_at"}


@dataclass(frozen=True)
class Actor:
    kind: str  # citizen | staff | system | classifier | client
    id: str | None = None


SYSTEM = Actor("system")


def record_event(
    item: FeedbackItem,
    kind: str,
    *,
    actor: Actor,
    message: str | None = None,
    public: bool = True,
    data: dict | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    now: datetime | None = None,
) -> ItemEvent:
    values = dict(
        kind=kind,
        actor_kind=actor.kind,
        actor_id=actor.id,
        message=message,
        public=public,
        data=data or {},
        from_status=from_status,
        to_status=to_status,
        created_at=now or utcnow(),
    )
    # A new item's event, only ever inserted, refers to it by id: no relationship bookkeeping.
    link = {"item_id": item.id} if bulk.is_collecting() else {"item": item}
    return bulk.add_new(ItemEvent, **link, **values)


def legal_moves(status: str) -> list[str]:
    return sorted(ALLOWED_TRANSITIONS.get(status, ()))


def transition(
    item: FeedbackItem,
    to: str,
    *,
    actor: Actor,
    message: str | None = None,
    public: bool = True,
    data: dict | None = None,
    now: datetime | None = None,
) -> ItemEvent:
    """Refuse an illegal move (409 naming the legal ones); otherwise stamp, record and bump the version."""
    current = item.status
    if to not in ALLOWED_TRANSITIONS.get(current, ()):
        raise IllegalTransition(
            errors={"legal_moves": legal_moves(current)}, from_status=current, to_status=to
        )
    now = now or utcnow()
    column = STAMPS.get(to)
    if column and not (column in FIRST_ONLY and getattr(item, column)):
        setattr(item, column, now)
    item.status = to
    item.updated_at = now
    if to == "routed":
        # A reroute: the item goes to another agency than the one its last routing gave it.
        if item.routed_agency_id is not None and item.agency_id != item.routed_agency_id:
            item.reroutes = (item.reroutes or 0) + 1
        item.routed_agency_id = item.agency_id
    from feedback_app.services.clocks import on_transition

    clock = on_transition(item, current, to, now)
    # The deadline in force from this event on: with the events alone a report can be recomputed.
    clock["due_at"] = item.due_at.isoformat() if item.due_at else None
    return record_event(
        item, "status", actor=actor, message=message, public=public, data={**(data or {}), **clock},
        from_status=current, to_status=to, now=now,
    )
