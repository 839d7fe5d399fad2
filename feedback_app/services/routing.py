"""Routing = field x area -> agency: the model (or the citizen's choice) gives the field, the rules the agency."""
from __future__ import annotations

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.models import Field, FeedbackItem, ItemEvent
from feedback_app.services.classification import predict_field
from feedback_app.services.directory import agency_for
from feedback_app.services.outbox import add_outbox_message
from feedback_app.services.workflow import Actor, transition

CLASSIFIER = Actor("classifier")


def _routing_text(item: FeedbackItem) -> str:
    return f"{item.title}\n{item.description}" if item.title else item.description


def route_item(item: FeedbackItem) -> ItemEvent:
    """Route a received item automatically, or send it to the triage desk saying why."""
    prediction = predict_field(_routing_text(item), item.area.code if item.area else None)
    field: Field | None = None
    routed_by = None
    reason = None
    if prediction is not None:
        item.predicted_category = prediction.label
        item.prediction_probability = prediction.probability
        item.model_version = prediction.model_version
        predicted = db.session.scalar(sa.select(Field).where(Field.code == prediction.label, Field.active.is_(True)))
        if prediction.auto_route and predicted is not None:
            field, routed_by = predicted, "classifier"
        else:
            reason = "low_confidence" if predicted is not None else "unknown_label"
    elif item.citizen_category is not None:
        # Without a model the citizen's own choice is the best we have.
        field, routed_by = item.citizen_category, "citizen"
    else:
        reason = "no_model"
    agency = agency_for(field, item.area) if field is not None else None
    if field is not None and agency is None:
        reason = "no_routing_rule"
    data = {
        "predicted_category": item.predicted_category,
        "probability": item.prediction_probability,
        "model_version": item.model_version,
    }
    if agency is not None:
        item.category, item.agency, item.routed_by = field, agency, routed_by
        event = transition(
            item, "routed", actor=CLASSIFIER if routed_by == "classifier" else Actor("system"),
            data={**data, "category": field.code, "agency": agency.code, "routed_by": routed_by},
        )
        topic = "item.routed"
    else:
        item.category = field or item.citizen_category
        event = transition(item, "needs_triage", actor=Actor("system"), data={**data, "reason": reason})
        topic = "item.needs_triage"
    db.session.flush()
    add_outbox_message(
        topic=topic, job_key=f"{topic}:{item.id}:{event.id}", payload={"item_id": str(item.id), "event_id": event.id}
    )
    return event
