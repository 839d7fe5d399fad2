"""Errors in the caller's language: {"code", "status", "message", "errors"}; GeoReport v2's list under /open311/."""
from __future__ import annotations

import logging

from flask import Flask, has_request_context, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from feedback_app.extensions import db
from feedback_app.i18n import translate, translate_field_errors
from feedback_app.ratelimit import RateLimited
from feedback_app.resources.open311 import serialise as open311
from feedback_app.services.errors import DomainError

log = logging.getLogger(__name__)

DEFAULT_KEYS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 412: "stale_version", 413: "too_large", 415: "unsupported_media_type", 428: "precondition_required",
    422: "validation_failed", 429: "rate_limited", 500: "internal_error", 503: "service_unavailable",
}
STATUS_NAMES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 412: "Precondition Failed", 413: "Payload Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Entity", 423: "Locked", 428: "Precondition Required", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}


def error_response(status: int, message_key: str | None = None, errors=None, headers=None, **params):
    if has_request_context() and open311.is_open311_request():
        # Open311 clients expect the GeoReport v2 error list, whatever went wrong.
        message = translate(message_key or DEFAULT_KEYS.get(status, "bad_request"), **params)
        return open311.error_response(status, message, translate_field_errors(errors or {}), headers)
    if errors and not isinstance(errors, dict):
        errors = {"_request": errors if isinstance(errors, list) else [str(errors)]}
    body = {
        "code": status,
        "status": STATUS_NAMES.get(status, "Error"),
        "message": translate(message_key or DEFAULT_KEYS.get(status, "bad_request"), **params),
        "errors": translate_field_errors(errors or {}),
    }
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        headers = {}
        if "retry_after" in error.params:
            headers["Retry-After"] = str(error.params["retry_after"])
        if error.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return error_response(error.status, error.message_key, error.errors, headers, **error.params)

    @app.errorhandler(StaleDataError)
    def handle_stale(error: StaleDataError):
        # Two writers read the same version: the second's UPDATE matched no row. No lost update.
        db.session.rollback()
        return error_response(412, "stale_version")

    @app.errorhandler(RateLimited)
    def handle_rate_limit(error: RateLimited):
        db.session.rollback()
        return error_response(429, "rate_limited", {"limit": [error.limit.text]},
                              {"Retry-After": str(error.retry_after)})

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        db.session.rollback()
        if isinstance(error, InternalServerError):
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.error("unhandled error: %s", type(original).__name__, exc_info=original)
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages") or {}
        # webargs nests errors by location ({"json": {...}}); a client wants the fields.
        if isinstance(errors, dict) and len(errors) == 1 and next(iter(errors)) in ("json", "query", "form", "headers", "files", "view_args"):
            errors = next(iter(errors.values()))
        key = DEFAULT_KEYS.get(error.code or 500, "bad_request")
        if error.code == 400 and errors:
            key = "invalid_json"
        headers = dict(data.get("headers") or {})
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_response(error.code or 500, key, errors, headers)

    def _discard_session() -> None:
        """Roll the request's work back; on a connection the driver has already lost (its ROLLBACK fails too,
        as "connection socket closed" may leave it), drop the connection instead, so that the error answer is
        the JSON one and the pool does not get the broken connection back."""
        try:
            db.session.rollback()
        except Exception:
            log.warning("rollback failed: the session's connections are invalidated")
            try:
                db.session.invalidate()
            except Exception:  # nothing more to do for a connection already gone
                pass

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        _discard_session()
        if error.connection_invalidated or isinstance(error, OperationalError):
            # The database connection was cut (a restart, a failover, a killed backend): nothing of this
            # request was kept unless its commit went through, and the client may simply retry (with the
            # same Idempotency-Key for a creation). The pool has dropped the dead connection already.
            log.warning("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
            return error_response(503, "service_unavailable", headers={"Retry-After": "2"})
        return handle_unexpected(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        _discard_session()
        log.error("unhandled error: %s", type(error).__name__, exc_info=error)
        return error_response(500, "internal_error")
