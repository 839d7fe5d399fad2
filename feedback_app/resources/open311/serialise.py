"""GeoReport v2 documents from one value: XML (the spec's required format, built with xml.etree) and JSON."""
from __future__ import annotations

import json
import re
from datetime import datetime
from xml.etree import ElementTree as ET

from flask import Response, request

from feedback_app.resources.fields import VIETNAM

PREFIX = "/open311/"
# The Spark convention: a plural element holds singular ones; JSON has the plural as an array.
CHILD = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
         "endpoints": "endpoint", "formats": "format", "errors": "error"}
MIMETYPES = {"xml": "text/xml", "json": "application/json"}
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry; removed from both formats so that they say the same thing.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def w3_datetime(value: datetime) -> str:
    """ISO 8601 with the offset, in Vietnam's time: 2025-11-20T14:05:00+07:00."""
    return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def plain(value):
    if isinstance(value, datetime):
        return w3_datetime(value)
    if isinstance(value, str):
        return NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {key: plain(child) for key, child in value.items()}
    if isinstance(value, list):
        return [plain(child) for child in value]
    return value


def _element(parent: ET.Element | None, tag: str, value) -> ET.Element:
    element = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, child in value.items():
            _element(element, key, child)
    elif isinstance(value, list):
        for child in value:
            _element(element, CHILD[tag], child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:  # None is an empty element, as in the spec's examples
        element.text = str(value)
    return element


def to_xml(root: str, value) -> str:
    return DECLARATION + ET.tostring(_element(None, root, plain(value)), encoding="unicode")


def to_json(value) -> str:
    return json.dumps(plain(value), ensure_ascii=False)


def render(fmt: str, root: str, value, status: int = 200) -> Response:
    body = to_xml(root, value) if fmt == "xml" else to_json(value)
    return Response(body, status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")


def is_open311_request() -> bool:
    return request.path.startswith(PREFIX)


def _join(prefix: str, key) -> str:
    key = "" if key in ("_request", "_schema") else str(key)
    return f"{prefix}.{key}" if prefix and key else prefix or key


def _descriptions(errors, prefix: str = "") -> list[str]:
    """Field errors as 'field: message' lines, nested fields joined with dots."""
    if isinstance(errors, dict):
        return [text for key, value in errors.items() for text in _descriptions(value, _join(prefix, key))]
    if isinstance(errors, list) and not all(isinstance(value, str) for value in errors):
        return [text for index, value in enumerate(errors) for text in _descriptions(value, _join(prefix, index))]
    return [f"{prefix}: {text}" if prefix else str(text) for text in (errors if isinstance(errors, list) else [errors])]


def error_response(status: int, message: str, errors, headers: dict | None = None) -> Response:
    """The spec's error list. HTTP 404 for what does not exist, 403 for a missing or bad api_key, 400 for
    any other refusal (the body keeps the specific code: 405, 413, 415, 429...); a server fault stays 5xx."""
    code = 403 if status == 401 else 400 if status == 422 else status
    http_status = code if code in (403, 404) or code >= 500 else 400
    body = [{"code": code, "description": message}]
    body += [{"code": code, "description": text} for text in _descriptions(errors or {})]
    fmt = "json" if request.path.endswith(".json") else "xml"
    response = render(fmt, "errors", body, http_status)
    for name, value in (headers or {}).items():
        if name in ("Retry-After", "Allow"):
            response.headers[name] = value
    return response
