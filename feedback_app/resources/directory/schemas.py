"""Directory schemas: codes with Vietnamese and English names, the area tree."""
from __future__ import annotations

import marshmallow as ma

from feedback_app.resources.fields import QueryText, StrictSchema


class AttributeSchema(ma.Schema):
    code = ma.fields.String()
    datatype = ma.fields.String()
    required = ma.fields.Boolean()
    order = ma.fields.Integer()
    description_vi = ma.fields.String()
    description_en = ma.fields.String()
    values = ma.fields.List(ma.fields.Dict())


class CategorySchema(ma.Schema):
    code = ma.fields.String()
    service_code = ma.fields.String()
    name_vi = ma.fields.String()
    name_en = ma.fields.String()
    description_vi = ma.fields.String()
    description_en = ma.fields.String()
    group_vi = ma.fields.String()
    group_en = ma.fields.String()
    keywords = ma.fields.List(ma.fields.String())
    attributes = ma.fields.List(ma.fields.Nested(AttributeSchema))


class AreaSchema(ma.Schema):
    code = ma.fields.String()
    parent_code = ma.fields.String(allow_none=True)
    level = ma.fields.String()
    name_vi = ma.fields.String()
    name_en = ma.fields.String()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    children = ma.fields.List(ma.fields.Nested(lambda: AreaSchema()), metadata={"description": "With tree=true."})


class AreaQuerySchema(StrictSchema):
    tree = ma.fields.Boolean(load_default=False, metadata={"description": "Nest children under their parent."})
    parent = QueryText(validate=ma.validate.Length(1, 32), metadata={"description": "Only the children of this area."})


class AgencySchema(ma.Schema):
    code = ma.fields.String()
    name_vi = ma.fields.String()
    name_en = ma.fields.String()
    kind = ma.fields.String()
    area_code = ma.fields.String()


class AgencyQuerySchema(StrictSchema):
    area = QueryText(validate=ma.validate.Length(1, 32))
    kind = QueryText(validate=ma.validate.Length(1, 32))
