"""Open311 GeoReport v2 routes: thin views over services/open311.py, in XML or JSON by the path's extension.

A plain Flask blueprint rather than flask-smorest: the spec's form-encoded input and XML output fit
OpenAPI's JSON schemas badly, and the spec (with discovery.{xml,json}) is this interface's documentation;
so these routes stay out of /api/openapi.json. Their errors take the spec's shape: feedback_app/errors.py
hands every error under /open311/ to serialise.error_response.
"""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, current_app, g, request, url_for

from feedback_app.extensions import rate_limit, rate_limit_key
from feedback_app.i18n import negotiate_language
from feedback_app.resources.common import parsed_request, storage, transactional
from feedback_app.resources.open311.schemas import RequestCreateSchema, RequestsQuerySchema
from feedback_app.resources.open311.serialise import render
from feedback_app.services import open311
from feedback_app.services.clients import Client, authenticate_key, current_client
from feedback_app.services.errors import DomainError, UnsupportedMediaType

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(xml, json):fmt>"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Built once: a marshmallow schema deep-copies its fields on every instantiation.
REQUEST_CREATE = RequestCreateSchema()
REQUESTS_QUERY = RequestsQuerySchema()


def _load(schema: ma.Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ma.ValidationError as err:
        raise DomainError("validation_failed", errors=err.messages) from None


def _raw_key() -> str | None:
    return request.headers.get("X-API-Key") or request.values.get("api_key") or None


def _client() -> Client:
    """The caller by its api_key: a form or query parameter in Open311, or the X-API-Key header."""
    if "open311_client" not in g:
        g.open311_client = authenticate_key(_raw_key())
    return g.open311_client


def _submitter_key() -> str:
    """One citizen, not one client: the device or account an authenticated client names, else the address."""
    client = _client()
    who = request.values.get("device_id") or request.values.get("account_id")
    return f"{client.scope}:citizen:{who[:128]}" if client.trusted and who else rate_limit_key()


def _absolute(path: str) -> str:
    return (current_app.config["PUBLIC_BASE_URL"].rstrip("/") or request.host_url.rstrip("/")) + path


def _attachment_url(tracking_code: str, attachment_id: str) -> str:
    return _absolute(url_for("feedback.PublicAttachmentFile", tracking_code=tracking_code, attachment_id=attachment_id))


@blp.before_request
def _jurisdiction_and_key():
    open311.check_jurisdiction(request.values.get("jurisdiction_id"), current_app.config["OPEN311_JURISDICTION"])
    if request.method == "POST":
        open311.authorise_submitter(_client(), key_given=bool(_raw_key()))


@blp.get(f"/discovery.{FMT}")
def discovery(fmt):
    config = current_app.config
    return render(fmt, "discovery", open311.discovery(
        url=_absolute(blp.url_prefix), contact=config["OPEN311_CONTACT"], key_service=config["OPEN311_KEY_SERVICE"],
        endpoint_type=config["OPEN311_ENDPOINT_TYPE"]))


@blp.get(f"/services.{FMT}")
def services(fmt):
    return render(fmt, "services", open311.service_list(lang=negotiate_language()))


@blp.get(f"/services/<service_code>.{FMT}")
def service_definition(service_code, fmt):
    return render(fmt, "service_definition", open311.service_definition(service_code, lang=negotiate_language()))


@blp.post(f"/requests.{FMT}")
@rate_limit(lambda: current_app.config["RATELIMIT_SUBMIT"], key_func=_submitter_key, methods=["POST"])
@transactional
def create_request(fmt):
    if request.mimetype not in FORM_TYPES:
        raise UnsupportedMediaType("open311_form_expected")
    body, uploads = parsed_request()
    created = open311.submit_request(
        data=_load(REQUEST_CREATE, body), uploads=uploads, client=current_client(), storage=storage(),
        consent_public=current_app.config["OPEN311_CONSENT_PUBLIC"], lang=negotiate_language())
    response = render(fmt, "service_requests", [created], status=201)
    code = created["service_request_id"]
    response.headers["Location"] = url_for(".service_request", service_request_id=code, fmt=fmt)
    return response


@blp.get(f"/requests.{FMT}")
def service_requests(fmt):
    # A parameter given twice is read as the spec's comma list.
    query = _load(REQUESTS_QUERY, {key: ",".join(request.args.getlist(key)) for key in request.args})
    items = open311.find_requests(**query)
    return render(fmt, "service_requests",
                  open311.request_views(items, lang=negotiate_language(), attachment_url=_attachment_url))


@blp.get(f"/requests/<service_request_id>.{FMT}")
def service_request(service_request_id, fmt):
    item = open311.find_request(service_request_id)
    return render(fmt, "service_requests",
                  open311.request_views([item], lang=negotiate_language(), attachment_url=_attachment_url))


@blp.get(f"/tokens/<token>.{FMT}")
def token(token, fmt):
    return render(fmt, "service_requests", [open311.request_for_token(token)])
