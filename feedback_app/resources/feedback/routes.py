"""Citizen intake routes: thin views over the intake service."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app, jsonify, request, send_file
from flask.views import MethodView

from feedback_app.extensions import Blueprint, rate_limit
from feedback_app.resources.common import IDEMPOTENCY_HEADER, parsed_request, read_only, storage, transactional
from feedback_app.resources.feedback.schemas import (
    FeedbackCreateSchema,
    FeedbackCreatedSchema,
    FeedPageSchema,
    FeedQuerySchema,
    MessageCreatedSchema,
    MessageCreateSchema,
    PublicFeedbackSchema,
    RatingCreatedSchema,
    RatingCreateSchema,
    dump_created,
    dump_public,
)
from feedback_app.services import citizen, intake, public_view
from feedback_app.services.clients import current_client
from feedback_app.services.directory import directory
from feedback_app.services.errors import NotFound, Unprocessable

blp = Blueprint("feedback", __name__, url_prefix="/api/v1/feedback", description="Citizen intake and tracking.")

MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": FeedbackCreateSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "additionalProperties": False,
                    "properties": {
                        "data": FeedbackCreateSchema,
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5},
                    },
                },
                "encoding": {"data": {"contentType": "application/json"}},
            },
        },
    },
    "parameters": [IDEMPOTENCY_HEADER],
}


# Built once: a marshmallow schema deep-copies its fields on every instantiation.
FEEDBACK_CREATE = FeedbackCreateSchema()
MESSAGE_CREATE = MessageCreateSchema()


def _submit_limit() -> str:
    return current_app.config["RATELIMIT_SUBMIT"]


def _load(schema: ma.Schema, body: dict) -> dict:
    try:
        return schema.load(body)
    except ma.ValidationError as err:
        raise Unprocessable("validation_failed", errors=err.messages) from None


@blp.route("")
class FeedbackCollection(MethodView):
    @blp.arguments(FeedQuerySchema, location="query")
    @blp.response(200, FeedPageSchema)
    def get(self, query):
        """The public feed: items whose citizens agreed to publish them."""
        return public_view.public_feed(**query)

    @blp.doc(**MULTIPART_DOC)
    @blp.alt_response(422, description="Invalid fields")
    @blp.alt_response(409, description="A request with this Idempotency-Key is still running")
    @blp.alt_response(413, description="Too large")
    @blp.alt_response(415, description="Not JSON or multipart, or a file that is not an image or MP4")
    @blp.alt_response(429, description="Too many submissions")
    @rate_limit(_submit_limit, methods=["POST"])
    @transactional(claim_in_statement=True)
    @blp.response(201, FeedbackCreatedSchema)
    def post(self):
        """Submit a complaint or recommendation (JSON, or multipart with up to 5 photos or videos)."""
        body, uploads = parsed_request()
        data = _load(FEEDBACK_CREATE, body)
        item, token = intake.submit_feedback(data=data, uploads=uploads, client=current_client(), storage=storage(),
                                             last_write=True)
        # The links by hand (url_for costs more than the rest of the answer); a test holds them to url_for's.
        this = f"{request.script_root}{blp.url_prefix}/{item.tracking_code}"
        links = {"self": this, "messages": f"{this}/messages"}
        refs = directory().refs(item)
        answer = {
            "id": item.id, "tracking_code": item.tracking_code, "citizen_token": token, "status": item.status,
            "category": refs["category"], "agency": refs["agency"],
            "due_at": item.due_at, "created_at": item.created_at, "links": links,
        }
        # Dumped by hand (FeedbackCreatedSchema still documents it; a test holds the two equal).
        return jsonify(dump_created(answer)), 201, {"Location": links["self"]}


@blp.route("/<string:tracking_code>")
class FeedbackByCode(MethodView):
    @blp.response(200, PublicFeedbackSchema)
    @blp.alt_response(404, description="No item with this tracking code")
    def get(self, tracking_code):
        """Track an item: status, field, agency, public timeline and answer; no personal data."""
        read_only()
        # Dumped by hand (PublicFeedbackSchema still documents it; a test holds the two equal).
        return jsonify(dump_public(public_view.tracking_view(tracking_code)))


@blp.route("/<string:tracking_code>/messages")
class FeedbackMessages(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": MessageCreateSchema},
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["data"], "additionalProperties": False, "properties": {
                        "data": MessageCreateSchema,
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5},
                    }},
                    "encoding": {"data": {"contentType": "application/json"}},
                },
            },
        },
        parameters=[IDEMPOTENCY_HEADER, {"in": "header", "name": "X-Citizen-Token", "required": False,
                                         "schema": {"type": "string"}}],
    )
    @blp.alt_response(403, description="Wrong citizen token")
    @blp.alt_response(404, description="No item with this tracking code")
    @blp.alt_response(409, description="The item is finished")
    @blp.alt_response(422, description="Invalid fields")
    @rate_limit(_submit_limit, methods=["POST"])
    @transactional
    @blp.response(201, MessageCreatedSchema)
    def post(self, tracking_code):
        """Add information to one's own item (authorised by the citizen token)."""
        body, uploads = parsed_request()
        data = _load(MESSAGE_CREATE, body)
        item = citizen.find_item(tracking_code)
        client = current_client()
        citizen.authorise_citizen(item, data.get("citizen_token") or request.headers.get("X-Citizen-Token"), client)
        event = citizen.add_citizen_message(item=item, message=data["message"], uploads=uploads, client=client,
                                           storage=storage())
        return {"tracking_code": item.tracking_code, "status": item.status, "received_at": event.created_at}, 201


@blp.route("/<string:tracking_code>/rating")
class FeedbackRating(MethodView):
    @blp.doc(parameters=[{"in": "header", "name": "X-Citizen-Token", "required": False, "schema": {"type": "string"}}])
    @blp.arguments(RatingCreateSchema)
    @blp.alt_response(403, description="Wrong citizen token")
    @blp.alt_response(404, description="No item with this tracking code")
    @blp.alt_response(409, description="The item is not resolved")
    @rate_limit(_submit_limit, methods=["POST"])
    @transactional
    @blp.response(201, RatingCreatedSchema)
    def post(self, data, tracking_code):
        """Rate the answer (1 to 5); a 1 or 2 within 14 days reopens the item to the same agency."""
        item = citizen.find_item(tracking_code)
        client = current_client()
        citizen.authorise_citizen(item, data.get("citizen_token") or request.headers.get("X-Citizen-Token"), client)
        citizen.rate_item(item=item, rating=data["rating"], comment=data.get("comment"), client=client)
        return {"tracking_code": item.tracking_code, "status": item.status, "rating": item.rating}, 201


@blp.route("/<string:tracking_code>/attachments/<string:attachment_id>")
class PublicAttachmentFile(MethodView):
    @blp.doc(responses={"200": {"description": "The file", "content": {"application/octet-stream": {}}}})
    @blp.alt_response(404, description="No such public attachment")
    def get(self, tracking_code, attachment_id):
        """Download a public attachment: the agency's evidence, or the citizen's photo if they consented."""
        item = citizen.find_item(tracking_code)
        attachment = next((a for a in public_view.public_attachments(item) if str(a.id) == attachment_id), None)
        if attachment is None:
            raise NotFound()
        return send_file(storage().path(attachment.storage_key), mimetype=attachment.content_type, max_age=3600)
