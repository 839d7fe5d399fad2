"""Triage routes: thin views; every one starts with who the caller is and whether they may see the item."""
from __future__ import annotations

from flask import jsonify, request, send_file
from flask.views import MethodView

from feedback_app.extensions import Blueprint, db
from feedback_app.resources.common import parsed_request, read_only, storage, transactional
from feedback_app.resources.triage.schemas import (
    ActionResultSchema,
    ActionSchema,
    ItemDetailSchema,
    QueuePageSchema,
    QueueQuerySchema,
    UploadedSchema,
    dump_action_result,
    dump_detail,
    dump_queue_page,
)
from feedback_app.services import access, actions, triage
from feedback_app.services.auth import current_staff
from feedback_app.services.citizen import store_attachments
from feedback_app.services.errors import NotFound, Unprocessable

blp = Blueprint("triage", __name__, url_prefix="/api/v1/triage", description="Agency queues and actions (staff).")
SECURED = {"security": [{"BearerAuth": []}]}
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The item's ETag (from its detail view); a stale one gets 412."}


def _staff():
    return access.require_staff(current_staff())


@blp.route("/items")
class Queue(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, QueuePageSchema)
    @blp.alt_response(401, description="No valid staff token")
    def get(self, query):
        """The caller's queue: their agency's items (coordinators: the triage desk), soonest deadline first."""
        if not db.session().in_transaction():  # a caller's API key may have been looked up already
            read_only()  # no BEGIN and ROLLBACK around its statements
        # Dumped by hand (QueuePageSchema still documents it; a test holds the two equal).
        return jsonify(dump_queue_page(triage.list_queue(_staff(), **query)))


@blp.route("/items/<string:item_id>")
class ItemDetail(MethodView):
    @blp.doc(**SECURED)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(404, description="No such item, or not the caller's")
    @transactional
    @blp.response(200, ItemDetailSchema)
    def get(self, item_id):
        """Everything about one item: timeline, attachments, likely duplicates, and (own agency) the contact."""
        user = _staff()
        item, contact = triage.get_item_and_contact(user, item_id)
        body = triage.detail(user, item, contact)
        # Dumped by hand (ItemDetailSchema still documents it; a test holds the two equal).
        return jsonify(dump_detail(body)), 200, {"ETag": triage.etag(item)}


@blp.route("/items/<string:item_id>/actions")
class ItemActions(MethodView):
    @blp.doc(parameters=[IF_MATCH], **SECURED)
    @blp.arguments(ActionSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="The caller's role may not take this action")
    @blp.alt_response(404, description="No such item, or not the caller's")
    @blp.alt_response(409, description="Not a legal move from the item's state; the legal ones are listed")
    @blp.alt_response(412, description="Stale If-Match: someone else changed the item")
    @transactional
    @blp.response(200, ActionResultSchema)
    def post(self, payload, item_id):
        """Act on an item: route, accept, assign, request_info, respond, resolve, reject, send_back, merge, note."""
        user = _staff()
        item, contact = triage.get_item_and_contact(user, item_id)
        result = actions.perform_action(item=item, user=user, payload=payload, if_match=request.headers.get("If-Match"))
        body = {**result, "item": triage.detail(user, item, contact)}
        # Dumped by hand (ActionResultSchema still documents it; a test holds the two equal).
        return jsonify(dump_action_result(body)), 200, {"ETag": triage.etag(item)}


@blp.route("/items/<string:item_id>/attachments")
class ItemAttachments(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "additionalProperties": False, "required": ["files"],
        "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5}},
    }}}}, **SECURED)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(404, description="No such item, or not the caller's")
    @transactional
    @blp.response(201, UploadedSchema)
    def post(self, item_id):
        """Add evidence (photos, video) to an item, to be cited when resolving it."""
        user = _staff()
        item = triage.get_item(user, item_id)
        access.ensure_may_act(user, item, "respond")
        body, uploads = parsed_request()
        if body or not uploads:
            raise Unprocessable(errors={"files": ["send one to five files and nothing else"]})
        rows = store_attachments(item, uploads, storage(), uploaded_by="staff")
        return {"attachments": rows}, 201


@blp.route("/attachments/<string:attachment_id>")
class AttachmentFile(MethodView):
    @blp.doc(**SECURED, responses={"200": {"description": "The file", "content": {"application/octet-stream": {}}}})
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(404, description="No such attachment, or not the caller's")
    def get(self, attachment_id):
        """Download an attachment of an item the caller may see."""
        user = _staff()
        from feedback_app.services.triage import get_attachment

        attachment = get_attachment(user, attachment_id)
        if attachment is None:
            raise NotFound()
        return send_file(storage().path(attachment.storage_key), mimetype=attachment.content_type, max_age=0)
