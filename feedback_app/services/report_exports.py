"""Reports as files: CSV (UTF-8 with BOM, for Excel) and XLSX with the definitions on a second sheet.

A report answered inline is rendered at once; a large one (the overdue list can run to many thousands of rows)
is an export request: a row and an outbox message committed together, a job that renders the file as the
requester would see it, and a download link once it is done.
"""
from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime

from feedback_app.extensions import db
from feedback_app.models import OutboxMessage, ReportExport, StaffUser
from feedback_app.models.types import VIETNAM, utcnow
from feedback_app.services import access
from feedback_app.services.errors import NotFound, Unprocessable
from feedback_app.services.outbox import add_outbox_message
from feedback_app.services.reports import REPORT_ROLES, ReportQuery, overdue_items, processing_rate

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
REPORTS = ("processing-rate", "overdue")
EXPORT_PAGE = 500
INLINE_OVERDUE_LIMIT = 5000

RATE_COLUMNS = [
    ("key", "Mã", "Key"),
    ("label", "Tên", "Name"),
    ("received", "Tiếp nhận", "Received"),
    ("handled", "Đã xử lý", "Handled"),
    ("handled_pct", "Tỷ lệ xử lý (%)", "Handled %"),
    ("handled_on_time", "Xử lý đúng hạn", "Handled on time"),
    ("on_time_pct", "Tỷ lệ đúng hạn (%)", "On-time %"),
    ("open", "Đang mở", "Open"),
    ("overdue_open", "Quá hạn đang mở", "Overdue open"),
    ("resolve_hours_p50", "Giờ làm việc xử lý (trung vị)", "Working hours to resolve (median)"),
    ("resolve_hours_p90", "Giờ làm việc xử lý (p90)", "Working hours to resolve (p90)"),
    ("reroute_rate", "Tỷ lệ chuyển lại (%)", "Reroute rate %"),
    ("auto_route_rate", "Tỷ lệ tự động phân loại (%)", "Auto-route rate %"),
    ("rating_avg", "Đánh giá trung bình", "Average rating"),
    ("ratings", "Số đánh giá", "Ratings"),
]
OVERDUE_COLUMNS = [
    ("tracking_code", "Mã phản ánh", "Tracking code"),
    ("status", "Trạng thái", "Status"),
    ("agency", "Cơ quan", "Agency"),
    ("category", "Lĩnh vực", "Field"),
    ("area", "Địa bàn", "Area"),
    ("created_at", "Tiếp nhận lúc", "Received at"),
    ("due_at", "Hạn xử lý", "Deadline"),
    ("working_hours_late", "Số giờ làm việc quá hạn", "Working hours late"),
]
DEFINITIONS = [
    ("received", "Số phản ánh tiếp nhận trong kỳ (theo ngày giờ Việt Nam).",
     "Items received (created) in the period, by local date (Asia/Ho_Chi_Minh)."),
    ("handled", "Trong số đó, phản ánh đang ở trạng thái đã giải quyết, đã đóng hoặc từ chối.",
     "Of those, items whose state is resolved, closed or rejected."),
    ("handled_pct", "Đã xử lý / tiếp nhận.", "Handled / received."),
    ("handled_on_time", "Đã xử lý không muộn hơn hạn xử lý có hiệu lực lúc xử lý (không có hạn: đúng hạn).",
     "Handled no later than the deadline in force when handled (no deadline: on time)."),
    ("on_time_pct", "Xử lý đúng hạn / đã xử lý.", "Handled on time / handled."),
    ("open", "Tiếp nhận - đã xử lý.", "Received - handled."),
    ("overdue_open", "Đang mở, không chờ công dân bổ sung, đã quá hạn xử lý.",
     "Open, not waiting for the citizen, past the deadline."),
    ("resolve_hours", "Giờ làm việc từ lúc tiếp nhận đến lúc xử lý, trừ thời gian chờ công dân; "
     "tính theo nhóm (1 giờ đến 8 giờ, 2 giờ đến 16, 4 giờ đến 32, 8 giờ đến 64, 16 giờ đến 128, 32 giờ đến 256, "
     "80 giờ đến 480), giá trị là cận trên của nhóm; trung vị và p90 theo thứ hạng gần nhất.",
     "Working hours from receipt to handling less the time waiting for the citizen, in buckets (1 h wide to 8 h, "
     "2 h to 16, 4 h to 32, 8 h to 64, 16 h to 128, 32 h to 256, 80 h to 480), read as the bucket's upper edge; "
     "median and p90 by nearest rank."),
    ("reroute_rate", "Tỷ lệ phản ánh được chuyển sang cơ quan khác sau lần giao trước.",
     "Share of received items given to another agency than their previous routing."),
    ("auto_route_rate", "Tỷ lệ phản ánh được mô hình phân loại giao tự động, không cần người.",
     "Share of received items first routed by the classifier, without a person."),
    ("rating_avg", "Đánh giá gần nhất của công dân, trung bình trên các phản ánh được đánh giá.",
     "The citizen's latest rating, averaged over rated items."),
]


def _cell(value):
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM).isoformat(timespec="minutes")
    if isinstance(value, dict):
        return value.get("name_vi") or value.get("code")
    return value


def table(report: str, body: dict, language: str = "vi") -> tuple[list[str], list[list]]:
    """The header and rows of a report body as a sheet shows them."""
    label = 2 if language == "en" else 1
    if report == "overdue":
        header = [c[label] for c in OVERDUE_COLUMNS]
        rows = [[_cell(item.get(c[0])) for c in OVERDUE_COLUMNS] for item in body["items"]]
        return header, rows
    header = [c[label] for c in RATE_COLUMNS]
    rows = []
    for row in [*body["rows"], body["totals"]]:
        values = {**row, "label": row[f"label_{language}"] if language == "en" else row["label_vi"]}
        rows.append([values.get(c[0]) for c in RATE_COLUMNS])
    return header, rows


def render(report: str, body: dict, fmt: str, language: str = "vi") -> bytes:
    header, rows = table(report, body, language)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Báo cáo" if language == "vi" else "Report")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    notes = book.create_sheet("Định nghĩa" if language == "vi" else "Definitions")
    notes.append(["Chỉ số", "Định nghĩa"] if language == "vi" else ["Figure", "Definition"])
    for name, text_vi, text_en in DEFINITIONS:
        notes.append([name, text_en if language == "en" else text_vi])
    params = {k: v for k, v in body.items() if k in ("from", "to", "group_by", "as_of", "generated_at")}
    for key, value in {**params, **(body.get("filters") or {})}.items():
        notes.append([key, "" if value is None else str(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: str, body: dict, fmt: str) -> str:
    stamp = body.get("to") or datetime.now(VIETNAM).date().isoformat()
    return f"{report}-{stamp}.{FORMATS[fmt][1]}"


# --- the export requests -------------------------------------------------------------------------------------


def run_report(report: str, params: dict, user: StaffUser, *, limit: int | None = None) -> dict:
    if report == "processing-rate":
        query = ReportQuery(
            date_from=date.fromisoformat(params["from"]), date_to=date.fromisoformat(params["to"]),
            group_by=params.get("group_by") or "agency", agency=params.get("agency"),
            category=params.get("category"), area=params.get("area"),
            as_of=datetime.fromisoformat(params["as_of"]) if params.get("as_of") else None,
        )
        return processing_rate(query, user)
    filters = {k: params.get(k) for k in ("agency", "category", "area")}
    first = overdue_items(user, page=1, page_size=EXPORT_PAGE, **filters)
    items, page = list(first["items"]), 1
    while len(items) < first["total"] and (limit is None or len(items) < limit):
        page += 1
        more = overdue_items(user, page=page, page_size=EXPORT_PAGE, **filters)["items"]
        if not more:
            break
        items.extend(more)
    return {**first, "items": items[:limit] if limit else items}


def request_export(user: StaffUser, *, report: str, fmt: str, params: dict, language: str = "vi") -> ReportExport:
    access.require_staff(user, *REPORT_ROLES)
    if report not in REPORTS or fmt not in FORMATS:
        raise Unprocessable(errors={"report": [f"one of {', '.join(REPORTS)}"], "format": list(FORMATS)})
    # Checked now, with the requester's rights, so that a bad request fails here and not in the job.
    if report == "processing-rate":
        run_report(report, {**params, "group_by": params.get("group_by") or "agency"}, user)
    else:
        overdue_items(user, page=1, page_size=1, **{k: params.get(k) for k in ("agency", "category", "area")})
    export = ReportExport(id=uuid.uuid4(), report=report, format=fmt, params={**params, "language": language},
                          requested_by_id=user.id, status="queued", created_at=utcnow())
    db.session.add(export)
    db.session.flush()
    add_outbox_message(topic="report.export", job_key=f"report.export:{export.id}", payload={"export_id": str(export.id)})
    return export


def get_export(user: StaffUser, export_id: str) -> ReportExport:
    access.require_staff(user, *REPORT_ROLES)
    try:
        export = db.session.get(ReportExport, uuid.UUID(str(export_id)))
    except ValueError:
        export = None
    if export is None or (export.requested_by_id != user.id and user.role != "admin"):
        raise NotFound()
    return export


def run_export(outbox_id: int, storage) -> dict:
    """The job's work: render the file as its requester would see it; a failure is recorded, not retried."""
    message = db.session.get(OutboxMessage, outbox_id)
    export = db.session.get(ReportExport, uuid.UUID(message.payload["export_id"]))
    if export is None or export.status == "done":
        message.processed_at = message.processed_at or utcnow()
        return {"export": None}
    user = db.session.get(StaffUser, export.requested_by_id)
    language = export.params.get("language", "vi")
    try:
        body = run_report(export.report, export.params, user)
        data = render(export.report, body, export.format, language)
    except Exception as exc:  # a report that cannot be made (a user since disabled...) says why
        export.status, export.error = "failed", type(exc).__name__
    else:
        blob = storage.put_export(data, FORMATS[export.format][1])
        export.status, export.storage_key = "done", blob
        export.rows = len(body["items"]) if export.report == "overdue" else len(body["rows"])
    export.finished_at = utcnow()
    message.processed_at = utcnow()
    return {"export": str(export.id), "status": export.status}
