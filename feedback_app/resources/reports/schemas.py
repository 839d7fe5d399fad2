"""Report schemas: the query, the rows (every figure defined in services/reports.py) and export requests."""
from __future__ import annotations

import marshmallow as ma

from feedback_app.resources.feedback.schemas import NamedRefSchema
from feedback_app.resources.fields import LocalDateTime, QueryText, StrictSchema
from feedback_app.services.report_exports import FORMATS, REPORTS
from feedback_app.services.reports import GROUPS, MAX_PAGE_SIZE

OUTPUT_FORMATS = ("json", *FORMATS)
LANGUAGES = ("vi", "en")


class ReportFilterQuerySchema(StrictSchema):
    """The filters every report takes; an agency admin's are always their own agency."""

    agency = QueryText(validate=ma.validate.Length(1, 64))
    category = QueryText(validate=ma.validate.Length(1, 64))
    area = QueryText(validate=ma.validate.Length(1, 32), metadata={"description": "This area and all inside it"})


class ProcessingRateQuerySchema(ReportFilterQuerySchema):
    date_from = ma.fields.Date(data_key="from", required=True, metadata={"description": "First local day (inclusive)"})
    date_to = ma.fields.Date(data_key="to", required=True, metadata={"description": "Last local day (inclusive)"})
    group_by = QueryText(load_default="agency", validate=ma.validate.OneOf(GROUPS))
    as_of = ma.fields.AwareDateTime(metadata={"description": "The report as it read at this instant"})
    format = QueryText(load_default="json", validate=ma.validate.OneOf(OUTPUT_FORMATS))
    lang = QueryText(load_default="vi", validate=ma.validate.OneOf(LANGUAGES), metadata={"description": "File headers"})


class OverdueQuerySchema(ReportFilterQuerySchema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, MAX_PAGE_SIZE))
    format = QueryText(load_default="json", validate=ma.validate.OneOf(OUTPUT_FORMATS))
    lang = QueryText(load_default="vi", validate=ma.validate.OneOf(LANGUAGES))


class FiguresSchema(ma.Schema):
    key = ma.fields.String()
    label_vi = ma.fields.String()
    label_en = ma.fields.String()
    received = ma.fields.Integer()
    handled = ma.fields.Integer()
    handled_pct = ma.fields.Float(allow_none=True)
    handled_on_time = ma.fields.Integer()
    on_time_pct = ma.fields.Float(allow_none=True)
    open = ma.fields.Integer()
    overdue_open = ma.fields.Integer()
    resolve_hours_p50 = ma.fields.Float(allow_none=True)
    resolve_hours_p90 = ma.fields.Float(allow_none=True)
    reroute_rate = ma.fields.Float(allow_none=True)
    auto_route_rate = ma.fields.Float(allow_none=True)
    rating_avg = ma.fields.Float(allow_none=True)
    ratings = ma.fields.Integer()


class ReportFiltersSchema(ma.Schema):
    agency = ma.fields.String(allow_none=True)
    category = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True)


class ProcessingRateSchema(ma.Schema):
    date_from = ma.fields.String(data_key="from")
    date_to = ma.fields.String(data_key="to")
    group_by = ma.fields.String()
    filters = ma.fields.Nested(ReportFiltersSchema)
    as_of = ma.fields.String(allow_none=True)
    generated_at = ma.fields.String()
    rows = ma.fields.List(ma.fields.Nested(FiguresSchema))
    totals = ma.fields.Nested(FiguresSchema)


class OverdueItemSchema(ma.Schema):
    id = ma.fields.String()
    tracking_code = ma.fields.String()
    status = ma.fields.String()
    agency = ma.fields.Nested(NamedRefSchema, allow_none=True)
    category = ma.fields.Nested(NamedRefSchema, allow_none=True)
    area = ma.fields.Nested(NamedRefSchema, allow_none=True)
    created_at = LocalDateTime()
    due_at = LocalDateTime()
    working_hours_late = ma.fields.Float()


class OverduePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OverdueItemSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    page_size = ma.fields.Integer()
    generated_at = LocalDateTime()


class ExportParamsSchema(StrictSchema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")
    group_by = ma.fields.String(validate=ma.validate.OneOf(GROUPS))
    agency = ma.fields.String(validate=ma.validate.Length(1, 64))
    category = ma.fields.String(validate=ma.validate.Length(1, 64))
    area = ma.fields.String(validate=ma.validate.Length(1, 32))
    as_of = ma.fields.AwareDateTime()


class ExportRequestSchema(StrictSchema):
    report = ma.fields.String(required=True, validate=ma.validate.OneOf(REPORTS))
    format = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(FORMATS)))
    language = ma.fields.String(load_default="vi", validate=ma.validate.OneOf(LANGUAGES))
    params = ma.fields.Nested(ExportParamsSchema, load_default=dict)

    @ma.validates_schema
    def _period(self, data, **kwargs):
        params = data.get("params") or {}
        if data.get("report") == "processing-rate" and not (params.get("date_from") and params.get("date_to")):
            raise ma.ValidationError({"params": ["'from' and 'to' are required for processing-rate"]})


class ExportSchema(ma.Schema):
    id = ma.fields.UUID()
    report = ma.fields.String()
    format = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued, done or failed"})
    rows = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    created_at = LocalDateTime()
    finished_at = LocalDateTime(allow_none=True)
    download_url = ma.fields.String(allow_none=True)
