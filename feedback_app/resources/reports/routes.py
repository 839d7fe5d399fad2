"""Report routes: thin views over services/reports.py and services/report_exports.py."""
from __future__ import annotations

from flask import Response, send_file, url_for
from flask.views import MethodView

from feedback_app.extensions import Blueprint
from feedback_app.resources.common import storage, transactional
from feedback_app.resources.reports.schemas import (
    ExportRequestSchema,
    ExportSchema,
    OverduePageSchema,
    OverdueQuerySchema,
    ProcessingRateQuerySchema,
    ProcessingRateSchema,
)
from feedback_app.services import report_exports
from feedback_app.services.auth import current_staff
from feedback_app.services.errors import NotFound
from feedback_app.services.reports import ReportQuery, overdue_items, processing_rate

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Processing-rate reports for managers, the overdue list, exports (staff).")
SECURED = {"security": [{"BearerAuth": []}]}
FILE_CONTENT = {
    "text/csv": {"schema": {"type": "string"}},
    report_exports.FORMATS["xlsx"][0]: {"schema": {"type": "string", "format": "binary"}},
}


def _json_or_file(component: str) -> dict:
    """The 200 answer: JSON, or with `format=csv|xlsx` the same report as a file."""
    return {"responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}, **FILE_CONTENT}}}}


def _file(report: str, body: dict, fmt: str, language: str) -> Response:
    data = report_exports.render(report, body, fmt, language)
    return Response(data, mimetype=report_exports.FORMATS[fmt][0].split(";")[0], headers={
        "Content-Disposition": f'attachment; filename="{report_exports.filename(report, body, fmt)}"'})


@blp.route("/processing-rate")
class ProcessingRate(MethodView):
    @blp.doc(**SECURED, **_json_or_file("ProcessingRate"))
    @blp.arguments(ProcessingRateQuerySchema, location="query")
    @blp.response(200, ProcessingRateSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not a manager, coordinator, admin or agency admin (own agency only)")
    def get(self, args):
        """Received, handled, on time, open, overdue, working hours to resolve, reroutes, auto-routing, ratings.

        Rows by agency, field, area (one level below the area filter), month or week, and a totals row.
        `format=csv|xlsx` answers a file (XLSX with the definitions on a second sheet)."""
        query = ReportQuery(date_from=args["date_from"], date_to=args["date_to"], group_by=args["group_by"],
                            agency=args.get("agency"), category=args.get("category"), area=args.get("area"),
                            as_of=args.get("as_of"))
        body = processing_rate(query, current_staff())
        if args["format"] != "json":
            return _file("processing-rate", body, args["format"], args["lang"])
        return body


@blp.route("/overdue")
class Overdue(MethodView):
    @blp.doc(**SECURED, **_json_or_file("OverduePage"))
    @blp.arguments(OverdueQuerySchema, location="query")
    @blp.response(200, OverduePageSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not allowed to read reports")
    def get(self, args):
        """Open items past their deadline, longest overdue first, with how late in working hours.

        As a file (`format=csv|xlsx`) every overdue item up to 5,000; more than that: request an export."""
        fmt, language = args.pop("format"), args.pop("lang")
        if fmt == "json":
            return overdue_items(current_staff(), **args)
        body = report_exports.run_report("overdue", args, current_staff(), limit=report_exports.INLINE_OVERDUE_LIMIT)
        return _file("overdue", body, fmt, language)


def _export_view(export) -> dict:
    view = {c: getattr(export, c) for c in ("id", "report", "format", "status", "rows", "error", "created_at",
                                            "finished_at")}
    view["download_url"] = (url_for("reports.ExportDownload", export_id=str(export.id))
                            if export.status == "done" else None)
    return view


@blp.route("/exports")
class Exports(MethodView):
    @blp.doc(**SECURED)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(403, description="Not allowed to read reports")
    @blp.arguments(ExportRequestSchema)
    @transactional
    @blp.response(202, ExportSchema)
    def post(self, body):
        """Ask for a report as a file, made in the background; poll the answer's URL for the download link."""
        params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in body["params"].items()}
        params = {{"date_from": "from", "date_to": "to"}.get(k, k): v for k, v in params.items()}
        export = report_exports.request_export(current_staff(), report=body["report"], fmt=body["format"],
                                               params=params, language=body["language"])
        return _export_view(export), 202, {"Location": url_for("reports.ExportStatus", export_id=str(export.id))}


@blp.route("/exports/<string:export_id>")
class ExportStatus(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, ExportSchema)
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(404, description="No such export, or another user's")
    def get(self, export_id):
        """An export's state; once done, its download link."""
        return _export_view(report_exports.get_export(current_staff(), export_id))


@blp.route("/exports/<string:export_id>/download")
class ExportDownload(MethodView):
    @blp.doc(**SECURED, responses={"200": {"description": "The file", "content": FILE_CONTENT}})
    @blp.alt_response(401, description="No valid staff token")
    @blp.alt_response(404, description="No such export, not done yet, or another user's")
    def get(self, export_id):
        """The export's file."""
        export = report_exports.get_export(current_staff(), export_id)
        if export.status != "done" or not export.storage_key:
            raise NotFound()
        mimetype = report_exports.FORMATS[export.format][0].split(";")[0]
        return send_file(storage().path(export.storage_key), mimetype=mimetype, as_attachment=True,
                         download_name=f"{export.report}.{export.format}")
