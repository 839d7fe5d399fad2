"""Schema fields shared by resources."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import marshmallow as ma

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class LocalDateTime(ma.fields.DateTime):
    """Instants are stored in UTC and shown in Asia/Ho_Chi_Minh with their offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(VIETNAM).isoformat(timespec="seconds")


class StrictSchema(ma.Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = ma.RAISE
        ordered = True
