"""Load the directory from YAML: validated as a whole with line numbers, applied idempotently or not at all."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa
import yaml

from feedback_app.extensions import db
from feedback_app.models import Agency, Area, DirectoryVersion, Field, RoutingRule
from feedback_app.models.directory import AGENCY_KINDS, AREA_LEVELS

CODE = ma.validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$", error="codes are letters, digits, '_', '.', '-'")
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


class DirectoryError(Exception):
    """Every problem of a file, each with its line: nothing was changed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class AreaEntry(_Strict):
    code = ma.fields.String(required=True, validate=CODE)
    parent = ma.fields.String(load_default=None, allow_none=True)
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(AREA_LEVELS))
    name_vi = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    lat = ma.fields.Float(load_default=None, validate=ma.validate.Range(-90, 90))
    lon = ma.fields.Float(load_default=None, validate=ma.validate.Range(-180, 180))


class AttributeValue(_Strict):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class AttributeEntry(_Strict):
    """An Open311 service-definition attribute: every field GeoReport v2 gives one."""

    code = ma.fields.String(required=True, validate=CODE)
    datatype = ma.fields.String(required=True, validate=ma.validate.OneOf(DATATYPES))
    required = ma.fields.Boolean(load_default=False)
    order = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    variable = ma.fields.Boolean(load_default=True)
    description_vi = ma.fields.String(required=True)
    description_en = ma.fields.String(load_default="")
    datatype_description = ma.fields.String(load_default="")
    values = ma.fields.List(ma.fields.Nested(AttributeValue), load_default=list)

    @ma.validates_schema
    def _values_fit_the_datatype(self, data, **kwargs):
        listed = data["datatype"] in ("singlevaluelist", "multivaluelist")
        if listed and not data["values"]:
            raise ma.ValidationError(f"a {data['datatype']} needs values", "values")
        if not listed and data["values"]:
            raise ma.ValidationError("only singlevaluelist and multivaluelist take values", "values")
        keys = [value["key"] for value in data["values"]]
        if len(set(keys)) != len(keys):
            raise ma.ValidationError("value keys must be unique", "values")
        if data["required"] and not data["variable"]:
            raise ma.ValidationError("an attribute asking for nothing (variable: false) cannot be required", "required")


class TemplateEntry(_Strict):
    code = ma.fields.String(required=True, validate=CODE)
    text_vi = ma.fields.String(required=True, validate=ma.validate.Length(1, 4000))
    text_en = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))


class FieldEntry(_Strict):
    code = ma.fields.String(required=True, validate=CODE)
    service_code = ma.fields.String(required=True, validate=CODE)
    name_vi = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 200))
    description_vi = ma.fields.String(load_default="")
    description_en = ma.fields.String(load_default="")
    group_vi = ma.fields.String(load_default="")
    group_en = ma.fields.String(load_default="")
    keywords = ma.fields.List(ma.fields.String(), load_default=list)
    dedup_radius_m = ma.fields.Integer(load_default=200, validate=ma.validate.Range(0, 100_000))
    resolution_evidence = ma.fields.String(
        load_default="required", validate=ma.validate.OneOf(("required", "optional"))
    )
    attributes = ma.fields.List(ma.fields.Nested(AttributeEntry), load_default=list)
    answer_templates = ma.fields.List(ma.fields.Nested(TemplateEntry), load_default=list)

    @ma.validates_schema
    def _attributes_are_distinct(self, data, **kwargs):
        # GeoReport v2: codes identify the answers, and each order is used once within a service.
        for key in ("code", "order"):
            seen = [attribute[key] for attribute in data["attributes"]]
            if len(set(seen)) != len(seen):
                raise ma.ValidationError(f"each attribute {key} is used once", "attributes")


class AgencyEntry(_Strict):
    code = ma.fields.String(required=True, validate=CODE)
    name_vi = ma.fields.String(required=True, validate=ma.validate.Length(1, 300))
    name_en = ma.fields.String(required=True, validate=ma.validate.Length(1, 300))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(AGENCY_KINDS))
    area = ma.fields.String(required=True)
    email = ma.fields.Email(load_default=None, allow_none=True)
    phone = ma.fields.String(load_default=None, allow_none=True)
    webhook_url = ma.fields.Url(load_default=None, allow_none=True, require_tld=False)
    webhook_secret = ma.fields.String(load_default=None, allow_none=True)


class SlaEntry(_Strict):
    field = ma.fields.String(load_default=None, allow_none=True)
    priority = ma.fields.String(required=True, validate=ma.validate.OneOf(("urgent", "normal", "complex")))
    ack_hours = ma.fields.Float(required=True, validate=ma.validate.Range(min=0.25, max=2000))
    resolve_days = ma.fields.Float(required=True, validate=ma.validate.Range(min=0.25, max=365))


class RuleEntry(_Strict):
    field = ma.fields.String(required=True)
    area = ma.fields.String(required=True)
    agency = ma.fields.String(required=True)


SECTIONS = {"areas": AreaEntry, "fields": FieldEntry, "agencies": AgencyEntry, "routing": RuleEntry,
            "sla_policies": SlaEntry}
OPTIONAL_SECTIONS = {"sla_policies"}


@dataclass
class _Entry:
    line: int
    data: dict


def _flatten(messages, prefix="") -> list[str]:
    out = []
    for key, value in messages.items():
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{prefix}{key}."))
        else:
            out.append(f"{prefix}{key}: {'; '.join(map(str, value))}")
    return out


def parse_directory(text: str) -> dict[str, list[_Entry]]:
    """Schema-check each entry, keeping the line it came from; raise DirectoryError listing every problem."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            document = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise DirectoryError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    if not isinstance(document, dict):
        raise DirectoryError(["line 1: the file must be a mapping with areas, fields, agencies and routing"])
    problems: list[str] = []
    unknown = sorted(set(map(str, document)) - set(SECTIONS))
    if unknown:
        problems.append(f"line 1: unknown sections {unknown}; expected {sorted(SECTIONS)}")
    nodes = {key_node.value: value_node for key_node, value_node in root.value}
    parsed: dict[str, list[_Entry]] = {}
    for section, schema_cls in SECTIONS.items():
        raw = document.get(section)
        node = nodes.get(section)
        if raw is None:
            if section not in OPTIONAL_SECTIONS:
                problems.append(f"line 1: section '{section}' is missing")
            parsed[section] = []
            continue
        if not isinstance(raw, list):
            problems.append(f"line {node.start_mark.line + 1}: '{section}' must be a list")
            parsed[section] = []
            continue
        schema = schema_cls()
        entries = []
        for item, item_node in zip(raw, node.value):
            line = item_node.start_mark.line + 1
            if not isinstance(item, dict):
                problems.append(f"line {line} ({section}): each entry must be a mapping")
                continue
            # YAML turns 27 into an int; codes are strings whatever the file's quoting.
            item = {k: (str(v) if k in ("code", "parent", "area") and isinstance(v, int) else v) for k, v in item.items()}
            try:
                entries.append(_Entry(line, schema.load(item)))
            except ma.ValidationError as err:
                for message in _flatten(err.messages):
                    problems.append(f"line {line} ({section}): {message}")
        parsed[section] = entries
    if problems:
        raise DirectoryError(problems)
    _check_references(parsed)
    return parsed


def _check_references(parsed: dict[str, list[_Entry]]) -> None:
    problems: list[str] = []

    def unique(section: str, key: str) -> set:
        seen: set = set()
        for entry in parsed[section]:
            value = entry.data[key]
            if value in seen:
                problems.append(f"line {entry.line} ({section}): duplicate {key} '{value}'")
            seen.add(value)
        return seen

    area_codes: set = set()
    roots = 0
    for entry in parsed["areas"]:
        parent = entry.data["parent"]
        if parent is None:
            roots += 1
        elif parent not in area_codes:
            problems.append(f"line {entry.line} (areas): parent '{parent}' must be an area listed earlier")
        if entry.data["code"] in area_codes:
            problems.append(f"line {entry.line} (areas): duplicate code '{entry.data['code']}'")
        area_codes.add(entry.data["code"])
    if parsed["areas"] and roots != 1:
        problems.append(f"line 1 (areas): exactly one root area (without parent) is needed, found {roots}")
    field_codes = unique("fields", "code")
    unique("fields", "service_code")
    agency_codes = unique("agencies", "code")
    for entry in parsed["agencies"]:
        if entry.data["area"] not in area_codes:
            problems.append(f"line {entry.line} (agencies): unknown area '{entry.data['area']}'")
    pairs: set = set()
    for entry in parsed["routing"]:
        d = entry.data
        for key, known in (("field", field_codes), ("area", area_codes), ("agency", agency_codes)):
            if d[key] not in known:
                problems.append(f"line {entry.line} (routing): unknown {key} '{d[key]}'")
        if (d["field"], d["area"]) in pairs:
            problems.append(f"line {entry.line} (routing): a second rule for field '{d['field']}' in area '{d['area']}'")
        pairs.add((d["field"], d["area"]))
    seen_policies: set = set()
    for entry in parsed["sla_policies"]:
        d = entry.data
        if d["field"] is not None and d["field"] not in field_codes:
            problems.append(f"line {entry.line} (sla_policies): unknown field '{d['field']}'")
        if (d["field"], d["priority"]) in seen_policies:
            problems.append(f"line {entry.line} (sla_policies): a second policy for {d['field'] or 'the default'}/{d['priority']}")
        seen_policies.add((d["field"], d["priority"]))
    if problems:
        raise DirectoryError(problems)


def _upsert(model, code: str, values: dict, counts: dict) -> object:
    row = db.session.scalar(sa.select(model).where(model.code == code))
    if row is None:
        row = model(code=code, **values)
        db.session.add(row)
        counts["created"] += 1
    else:
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        counts["updated" if changed else "unchanged"] += 1
    return row


def load_directory(text: str, *, source: str) -> dict:
    """Apply a whole directory file; entries missing from it are deactivated, routing is replaced."""
    parsed = parse_directory(text)
    summary = {s: {"created": 0, "updated": 0, "unchanged": 0} for s in SECTIONS if s not in OPTIONAL_SECTIONS}
    areas: dict[str, Area] = {}
    for entry in parsed["areas"]:
        d = entry.data
        parent = areas.get(d["parent"]) if d["parent"] else None
        path = f"{parent.path}/{d['code']}" if parent else d["code"]
        values = {
            "parent_id": None, "level": d["level"], "name_vi": d["name_vi"], "name_en": d["name_en"],
            "path": path, "depth": path.count("/"), "lat": d["lat"], "lon": d["lon"],
        }
        if parent is not None:
            db.session.flush()
            values["parent_id"] = parent.id
        areas[d["code"]] = _upsert(Area, d["code"], values, summary["areas"])
    db.session.flush()

    fields: dict[str, Field] = {}
    for entry in parsed["fields"]:
        d = dict(entry.data)
        code = d.pop("code")
        fields[code] = _upsert(Field, code, {**d, "active": True}, summary["fields"])
    agencies: dict[str, Agency] = {}
    for entry in parsed["agencies"]:
        d = dict(entry.data)
        code = d.pop("code")
        d["area_id"] = areas[d.pop("area")].id
        agencies[code] = _upsert(Agency, code, {**d, "active": True}, summary["agencies"])
    db.session.flush()
    for model, kept in ((Field, fields), (Agency, agencies)):
        db.session.execute(sa.update(model).where(model.code.not_in(list(kept))).values(active=False))

    existing = {(r.field_id, r.area_id): r for r in db.session.scalars(sa.select(RoutingRule))}
    wanted = set()
    for entry in parsed["routing"]:
        d = entry.data
        key = (fields[d["field"]].id, areas[d["area"]].id)
        wanted.add(key)
        agency_id = agencies[d["agency"]].id
        rule = existing.get(key)
        if rule is None:
            db.session.add(RoutingRule(field_id=key[0], area_id=key[1], agency_id=agency_id))
            summary["routing"]["created"] += 1
        elif rule.agency_id != agency_id:
            rule.agency_id = agency_id
            summary["routing"]["updated"] += 1
        else:
            summary["routing"]["unchanged"] += 1
    removed = [r for key, r in existing.items() if key not in wanted]
    for rule in removed:
        db.session.delete(rule)
    summary["routing"]["removed"] = len(removed)
    # SLA policies are replaced whole: what the file says is the policy.
    from feedback_app.models import SlaPolicy

    db.session.execute(sa.delete(SlaPolicy))
    for entry in parsed["sla_policies"]:
        d = entry.data
        db.session.add(SlaPolicy(field_id=fields[d["field"]].id if d["field"] else None, priority=d["priority"],
                                 ack_hours=d["ack_hours"], resolve_days=d["resolve_days"]))
    summary["sla_policies"] = {"loaded": len(parsed["sla_policies"])}
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    db.session.add(DirectoryVersion(sha256=sha, source=source[:500], summary=summary))
    db.session.flush()
    from feedback_app.services.clocks import invalidate_clocks
    from feedback_app.services.directory import invalidate_directory

    invalidate_directory()
    invalidate_clocks()
    return summary
