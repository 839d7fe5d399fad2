"""Routing = field x area -> agency: the model (or the citizen's choice) gives the field, the rules the agency."""
from __future__ import annotations

import secrets

from feedback_app.models import FeedbackItem, ItemEvent
from feedback_app.services.classification import predict_field
from feedback_app.services.directory import AreaRef, directory
from feedback_app.services.outbox import add_item_message
from feedback_app.services.workflow import Actor, transition

CLASSIFIER = Actor("classifier")
SYSTEM = Actor("system")


def routing_text(item: FeedbackItem) -> str:
    return f"{item.title}\n{item.description}" if item.title else item.description


def route_item(item: FeedbackItem, *, area: AreaRef | None = None) -> ItemEvent:
    """Route a received item automatically, or send it to the triage desk saying why."""
    snapshot = directory()
    if area is None and item.area_id is not None:
        area = snapshot.areas_by_id.get(item.area_id)
    prediction = predict_field(routing_text(item), area.code if area else None)
    field = None
    routed_by = None
    reason = None
    if prediction is not None:
        item.predicted_category = prediction.label
        item.prediction_probability = prediction.probability
        item.model_version = prediction.model_version
        predicted = snapshot.field(prediction.label)
        if prediction.auto_route and predicted is not None:
            field, routed_by = predicted, "classifier"
        else:
            reason = "low_confidence" if predicted is not None else "unknown_label"
    elif item.citizen_category_id is not None:
        # Without a model the citizen's own choice is the best we have.
        field, routed_by = snapshot.fields_by_id.get(item.citizen_category_id), "citizen"
    else:
        reason = "no_model"
    agency = snapshot.agency_for(field.id, area) if field is not None else None
    if field is not None and agency is None:
        reason = "no_routing_rule"
    data = {
        "predicted_category": item.predicted_category,
        "probability": item.prediction_probability,
        "model_version": item.model_version,
    }
    if agency is not None:
        item.category_id, item.agency_id, item.routed_by = field.id, agency.id, routed_by
        item.auto_routed = routed_by == "classifier"
        event = transition(
            item, "routed", actor=CLASSIFIER if routed_by == "classifier" else SYSTEM,
            data={**data, "category": field.code, "agency": agency.code, "routed_by": routed_by},
        )
        topic = "item.routed"
    else:
        item.category_id = field.id if field is not None else item.citizen_category_id
        category = snapshot.fields_by_id.get(item.category_id) if item.category_id else None
        event = transition(item, "needs_triage", actor=SYSTEM,
                           data={**data, "reason": reason, "category": category.code if category else None})
        topic = "item.needs_triage"
    # The job key is fixed here, in the row: a message relayed twice is enqueued once.
    add_item_message(item, topic=topic, job_key=f"{topic}:{item.id}:{secrets.token_hex(6)}",
                     payload={"item_id": str(item.id)})
    return event
