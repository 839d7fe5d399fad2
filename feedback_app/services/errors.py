"""Domain errors: each knows its HTTP status and its message key; the app turns them into the one JSON shape."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    message_key = "bad_request"

    def __init__(self, message_key: str | None = None, *, errors: dict | None = None, **params):
        self.message_key = message_key or self.message_key
        self.errors = errors or {}
        self.params = params
        super().__init__(self.message_key)


class NotFound(DomainError):
    status = 404
    message_key = "not_found"


class Forbidden(DomainError):
    status = 403
    message_key = "forbidden"


class Unauthorized(DomainError):
    status = 401
    message_key = "unauthorized"


class Conflict(DomainError):
    status = 409
    message_key = "conflict"


class IllegalTransition(Conflict):
    message_key = "illegal_transition"


class PreconditionFailed(DomainError):
    status = 412
    message_key = "stale_version"


class Unprocessable(DomainError):
    status = 422
    message_key = "unprocessable"


class PayloadTooLarge(DomainError):
    status = 413
    message_key = "too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    message_key = "unsupported_media_type"
