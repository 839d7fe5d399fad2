"""Sign-in schemas."""
from __future__ import annotations

import marshmallow as ma

from feedback_app.resources.fields import LocalDateTime, StrictSchema


class TokenRequestSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(1, 64))
    password = ma.fields.String(required=True, validate=ma.validate.Length(1, 200), load_only=True)


class TokenSchema(ma.Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_at = LocalDateTime()
