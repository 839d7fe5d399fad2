"""Schema fields shared by resources."""
from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

import marshmallow as ma

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class LocalDateTime(ma.fields.DateTime):
    """Instants are stored in UTC and shown in Asia/Ho_Chi_Minh with their offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def _storable(text: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no unpaired surrogate (JSON can write one; UTF-8 cannot hold it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _nul_fields(data, prefix: str = "") -> list[str]:
    if isinstance(data, str):
        return [] if _storable(data) else [prefix or "_schema"]
    if isinstance(data, Mapping):
        return [f for k, v in data.items() for f in _nul_fields(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in _nul_fields(v, f"{prefix}.{i}" if prefix else str(i))]
    return []


class StrictSchema(ma.Schema):
    """Unknown fields are an error, never silently dropped; no string may carry a NUL or an unpaired surrogate."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def _refuse_nul(self, data, **kwargs):
        bad = _nul_fields(data) if isinstance(data, Mapping) else []
        if bad:
            raise ma.ValidationError({name.split(".")[0]: ["Must not contain NUL characters or unpaired surrogates."]
                                      for name in bad})
        return data


class QueryText(ma.fields.String):
    """A query-string value: documented (and checked) as NUL-free, so that no filter can reach the database with one."""

    def __init__(self, *args, **kwargs):
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        super().__init__(*args, validate=[*validators, ma.validate.Regexp(r"^[^\x00]*$")], **kwargs)
