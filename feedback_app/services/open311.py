"""Open311 GeoReport v2 over the domain: services from the directory, requests from items, intake unchanged."""
from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from feedback_app.extensions import db
from feedback_app.i18n import translate
from feedback_app.models import Attachment, DirectoryVersion, FeedbackItem, Field, ItemContact, ItemEvent
from feedback_app.models.feedback import OPEN_STATUSES
from feedback_app.models.types import utcnow
from feedback_app.services import intake
from feedback_app.services.citizen import citizen_actor, normalise_tracking_code
from feedback_app.services.clients import ANONYMOUS, Client
from feedback_app.services.directory import directory
from feedback_app.services.errors import DomainError, Forbidden, NotFound
from feedback_app.services.public_view import mask_names, mask_personal_data
from feedback_app.services.storage import LocalStorage

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("text/xml", "application/json")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOW = timedelta(days=90)
MAX_RECORDS = 1000
LIST_TYPES = ("singlevaluelist", "multivaluelist")
# The attribute answers and media_url of an Open311 submission: for staff only (an answer may be a customer number).
DETAILS_EVENT = "open311_request"


def _text(row, name: str, lang: str) -> str:
    """A directory text in the caller's language, Vietnamese when there is no translation."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key, None)
    return get(f"{name}_{lang}") or get(f"{name}_vi") or ""


def check_jurisdiction(given: str | None, served: str) -> None:
    # The spec: an empty parameter is an absent one, and one jurisdiction needs none.
    if given and given != served:
        raise NotFound("open311_jurisdiction", given=given, served=served)


def authorise_submitter(client: Client, *, key_given: bool) -> None:
    """POST needs a live API key with the open311 scope: 403 otherwise, as the spec says."""
    if client is ANONYMOUS:
        raise Forbidden("open311_api_key_invalid" if key_given else "open311_api_key_missing")
    if "open311" not in client.scopes:
        raise Forbidden("open311_api_key_scope")


def discovery(*, url: str, contact: str, key_service: str, endpoint_type: str) -> dict:
    # The changeset moves when the directory (the service list and definitions) is loaded again.
    changeset = db.session.scalar(sa.select(sa.func.max(DirectoryVersion.loaded_at)))
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": changeset,
                       "type": endpoint_type, "formats": list(FORMATS)}],
    }


def _active_field(service_code: str) -> Field:
    field = db.session.scalar(sa.select(Field).where(Field.service_code == service_code, Field.active.is_(True)))
    if field is None:
        raise NotFound("open311_service_not_found", service_code=service_code)
    return field


def service_list(*, lang: str) -> list[dict]:
    fields = db.session.scalars(sa.select(Field).where(Field.active.is_(True)).order_by(Field.id))
    return [{
        "service_code": f.service_code,
        "service_name": _text(f, "name", lang),
        "description": _text(f, "description", lang),
        "metadata": bool(f.attributes),
        "type": "realtime",
        "keywords": ", ".join(f.keywords or []),
        "group": _text(f, "group", lang),
    } for f in fields]


def service_definition(service_code: str, *, lang: str) -> dict:
    field = _active_field(service_code)
    return {"service_code": field.service_code, "attributes": [{
        "variable": a.get("variable", True),
        "code": a["code"],
        "datatype": a["datatype"],
        "required": a.get("required", False),
        "datatype_description": a.get("datatype_description") or None,
        "order": a.get("order", 1),
        "description": _text(a, "description", lang),
        "values": [{"key": v["key"], "name": v["name"]} for v in a.get("values") or []],
    } for a in sorted(field.attributes or [], key=lambda a: a.get("order", 1))]}


def _valid_answer(datatype: str, value: str) -> bool:
    if datatype == "number":
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    if datatype == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    if datatype == "string":
        return "\n" not in value and "\r" not in value and len(value) <= 500
    return len(value) <= 4000  # text


def checked_answers(field: Field, given: dict) -> dict:
    """The attribute answers, checked against the service definition: required, datatype, list keys."""
    definitions = {a["code"]: a for a in field.attributes or [] if a.get("variable", True)}
    problems: dict[str, list[str]] = {}
    answers: dict = {}
    for code in given:
        if code not in definitions:
            problems[f"attribute[{code}]"] = ["Unknown attribute."]
    for code, definition in definitions.items():
        raw = given.get(code)
        values = [v.strip() for v in (raw if isinstance(raw, list) else [raw]) if isinstance(v, str) and v.strip()]
        name = f"attribute[{code}]"
        datatype = definition["datatype"]
        if not values:
            if definition.get("required"):
                problems[name] = ["Missing data for required field."]
            continue
        if datatype != "multivaluelist" and len(values) > 1:
            problems[name] = ["Only one value is allowed."]
        elif datatype in LIST_TYPES:
            keys = [v["key"] for v in definition.get("values") or []]
            unknown = [v for v in values if v not in keys]
            if unknown:
                problems[name] = [f"Must be one of: {', '.join(keys)}."]
            else:
                answers[code] = values if datatype == "multivaluelist" else values[0]
        elif not _valid_answer(datatype, values[0]):
            problems[name] = [f"Not a valid {datatype}."]
        else:
            answers[code] = values[0]
    if problems:
        raise DomainError("validation_failed", errors=problems)
    return answers


def _details_message(field: Field, answers: dict, media_url: str | None) -> str:
    lines = []
    for definition in sorted(field.attributes or [], key=lambda a: a.get("order", 1)):
        if definition["code"] not in answers:
            continue
        names = {v["key"]: v["name"] for v in definition.get("values") or []}
        value = answers[definition["code"]]
        shown = ", ".join(names.get(v, v) for v in (value if isinstance(value, list) else [value]))
        lines.append(f"{_text(definition, 'description', 'vi')}: {shown}")
    if media_url:
        lines.append(f"media_url: {media_url}")
    return "\n".join(lines)


def submit_request(*, data: dict, uploads: list[intake.Upload], client: Client, storage: LocalStorage,
                   consent_public: bool, lang: str) -> dict:
    """POST requests: the spec's fields become a native submission and go through the one intake service."""
    field = _active_field(data["service_code"])
    answers = checked_answers(field, data.get("attributes") or {})
    description = (data.get("description") or "").strip()
    if len(description) < 10:  # the spec allows no description; triage needs a sentence
        about = translate("open311_submitted_about", lang, service=_text(field, "name", lang))
        description = f"{about}: {description}" if description else about
    # A Vietnamese full name is family name first: Nguyễn (last_name) Văn An (first_name).
    name = " ".join(p for p in (data.get("last_name"), data.get("first_name")) if p) or None
    native = {
        "description": description,
        "category": field.code,
        "lat": data.get("lat"),
        "lon": data.get("long"),
        "address": data.get("address_string"),
        "area_code": data.get("address_id"),
        "contact": {"name": name, "phone": data.get("phone"), "email": data.get("email")},
        "consent_public": consent_public,
        "channel": "open311",
        "language": lang,
    }
    item, _citizen_token = intake.submit_feedback(data=native, uploads=uploads, client=client, storage=storage)
    if answers or data.get("media_url"):
        actor = citizen_actor(client)
        # A plain row by item id: intake has already written (and let go of) the item itself.
        db.session.add(ItemEvent(
            item_id=item.id, kind=DETAILS_EVENT, actor_kind=actor.kind, actor_id=actor.id, public=False,
            message=_details_message(field, answers, data.get("media_url")),
            data={"service_code": field.service_code, "attributes": answers, "media_url": data.get("media_url")},
            created_at=utcnow(),
        ))
    return {"service_request_id": item.tracking_code, "service_notice": service_notice(item, lang),
            "account_id": data.get("account_id")}


def service_notice(item: FeedbackItem, lang: str) -> str | None:
    if item.status not in OPEN_STATUSES:
        return None
    agency = directory().agencies_by_id.get(item.agency_id) if item.agency_id else None
    if agency is None:
        return translate("open311_notice_triage", lang)
    name = agency.name_en if lang == "en" else agency.name_vi
    if item.due_at is None:
        return translate("open311_notice_agency", lang, agency=name)
    due = item.due_at.astimezone(VIETNAM)
    shown = f"{due:%H:%M} ngày {due:%d/%m/%Y}" if lang == "vi" else f"{due:%Y-%m-%d %H:%M} (UTC+07:00)"
    return translate("open311_notice_routed", lang, agency=name, due=shown)


def find_requests(*, service_request_id: list[str] | None = None, service_code: list[str] | None = None,
                  start_date: datetime | None = None, end_date: datetime | None = None,
                  status: list[str] | None = None, updated_after: datetime | None = None,
                  page: int = 1, page_size: int = MAX_RECORDS, now: datetime | None = None) -> list[FeedbackItem]:
    """GET requests: ids override everything; otherwise a window of at most 90 days (the last 90 by default)."""
    query = sa.select(FeedbackItem)
    if service_request_id:
        wanted = sorted({normalise_tracking_code(code) for code in service_request_id})
        query = query.where(FeedbackItem.tracking_code.in_(wanted))
    else:
        # With updated_after alone a client is catching up on changes: no window on the request date.
        if start_date or end_date or not updated_after:
            end = end_date or (start_date + WINDOW if start_date else now or utcnow())
            start = start_date or end - WINDOW
            if start > end:
                raise DomainError("validation_failed", errors={"start_date": ["Must not be after end_date."]})
            if end - start > WINDOW:
                raise DomainError("validation_failed", errors={"end_date": ["The range may span 90 days at most."]})
            query = query.where(FeedbackItem.created_at >= start, FeedbackItem.created_at <= end)
        if service_code:
            ids = db.session.scalars(sa.select(Field.id).where(Field.service_code.in_(service_code))).all()
            # The field staff settled on, or the one the citizen chose while the item awaits triage.
            query = query.where(sa.or_(
                FeedbackItem.category_id.in_(ids),
                sa.and_(FeedbackItem.category_id.is_(None), FeedbackItem.citizen_category_id.in_(ids))))
        if set(status or ()) == {"open"}:
            query = query.where(FeedbackItem.status.in_(OPEN_STATUSES))
        elif set(status or ()) == {"closed"}:
            query = query.where(FeedbackItem.status.not_in(OPEN_STATUSES))
        if updated_after:
            query = query.where(FeedbackItem.updated_at > updated_after)
    query = query.order_by(FeedbackItem.created_at.desc(), FeedbackItem.id)
    return db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)).all()


def find_request(service_request_id: str) -> FeedbackItem:
    item = db.session.scalar(
        sa.select(FeedbackItem).where(FeedbackItem.tracking_code == normalise_tracking_code(service_request_id)))
    if item is None:
        raise NotFound("open311_request_not_found", service_request_id=service_request_id)
    return item


def request_for_token(token: str) -> dict:
    """A token is an item's id (the native API's `id`, the one webhooks carry): it names its request id."""
    try:
        item = db.session.get(FeedbackItem, uuid.UUID(token))
    except ValueError:
        item = None
    if item is None:
        raise NotFound("open311_token_not_found", token=token)
    return {"service_request_id": item.tracking_code, "token": token}


def _updated(item: FeedbackItem) -> datetime:
    if item.status in OPEN_STATUSES:
        return item.updated_at
    # The spec: for a closed request, when it was closed.
    return max((t for t in (item.resolved_at, item.closed_at, item.rejected_at) if t), default=item.updated_at)


def _public_text(text: str | None, names: list[str]) -> str | None:
    """Free text as anyone may read it: no phone, e-mail or ID number, nor the citizen's own name."""
    return mask_names(mask_personal_data(text), names)


def _contact_names(ids: list) -> dict:
    rows = db.session.execute(sa.select(ItemContact.item_id, ItemContact.name).where(
        ItemContact.item_id.in_(ids), ItemContact.name.is_not(None))) if ids else []
    return {item_id: [name] for item_id, name in rows}


def _place(item: FeedbackItem, area, lang: str, names: list[str]) -> str | None:
    if item.consent_public and item.address:
        return _public_text(item.address, names)
    if area is None:
        return None
    areas = directory().areas
    # Most specific first, as the spec asks: ward, town, province.
    return ", ".join(_text(areas[code], "name", lang) for code in area.ancestor_codes if code in areas)


def _notes_and_media(items: list[FeedbackItem], attachment_url: Callable[[str, str], str]) -> tuple[dict, dict]:
    ids = [item.id for item in items]
    by_id = {item.id: item for item in items}
    notes: dict = {}
    citizen_media: dict = {}
    agency_media: dict = {}
    if not ids:
        return notes, {}
    events = db.session.execute(
        sa.select(ItemEvent.item_id, ItemEvent.kind, ItemEvent.message, ItemEvent.data)
        .where(ItemEvent.item_id.in_(ids), sa.or_(
            sa.and_(ItemEvent.public.is_(True), ItemEvent.message.is_not(None),
                    ItemEvent.actor_kind.not_in(("citizen", "client"))),
            ItemEvent.kind == DETAILS_EVENT))
        .order_by(ItemEvent.id))
    for item_id, kind, message, data in events:
        if kind == DETAILS_EVENT:
            if by_id[item_id].consent_public and (data or {}).get("media_url"):
                citizen_media.setdefault(item_id, data["media_url"])
        else:
            notes[item_id] = message
    attachments = db.session.execute(
        sa.select(Attachment.item_id, Attachment.id, Attachment.uploaded_by)
        .where(Attachment.item_id.in_(ids), Attachment.public.is_(True))
        .order_by(Attachment.created_at, Attachment.id))
    for item_id, attachment_id, uploaded_by in attachments:
        item = by_id[item_id]
        url = attachment_url(item.tracking_code, str(attachment_id))
        if uploaded_by == "citizen":
            if item.consent_public and item_id not in citizen_media:
                citizen_media[item_id] = url
        else:
            agency_media.setdefault(item_id, url)
    # The citizen's own picture of the problem first (with consent), else the agency's evidence.
    return notes, {**agency_media, **citizen_media}


def request_views(items: list[FeedbackItem], *, lang: str, attachment_url: Callable[[str, str], str]) -> list[dict]:
    """The spec's fields of each request: the citizen's words and place only with consent, never a contact."""
    snapshot = directory()
    fields = {f.id: f for f in db.session.scalars(sa.select(Field))}
    notes, media = _notes_and_media(items, attachment_url)
    contact_names = _contact_names([item.id for item in items])
    views = []
    for item in items:
        names = contact_names.get(item.id, [])
        field = fields.get(item.category_id or item.citizen_category_id)
        agency = snapshot.agencies_by_id.get(item.agency_id)
        area = snapshot.areas_by_id.get(item.area_id)
        shown = item.consent_public
        views.append({
            "service_request_id": item.tracking_code,
            "status": "open" if item.status in OPEN_STATUSES else "closed",
            "status_notes": _public_text(notes.get(item.id), names),
            "service_name": _text(field, "name", lang) if field else None,
            "service_code": field.service_code if field else None,
            "description": _public_text(item.description, names) if shown else None,
            "agency_responsible": (agency.name_en if lang == "en" else agency.name_vi) if agency else None,
            "service_notice": service_notice(item, lang),
            "requested_datetime": item.created_at,
            "updated_datetime": _updated(item),
            "expected_datetime": item.due_at,
            "address": _place(item, area, lang, names),
            "address_id": area.code if area else None,
            "zipcode": None,
            "lat": item.lat if shown else None,
            "long": item.lon if shown else None,
            "media_url": media.get(item.id),
        })
    return views
