"""The dashboard's words in Vietnamese and English, chosen like the API's messages (feedback_app.i18n)."""
from __future__ import annotations

from flask import g, request, session

from feedback_app.dashboard.signin import LANG_KEY
from feedback_app.i18n import LANGUAGES, negotiate_language, translate

TEXT: dict[str, dict[str, str]] = {
    "app_name": {"vi": "Phản ánh, kiến nghị", "en": "Citizen feedback"},
    "dashboard_title": {"vi": "Bảng điều hành xử lý phản ánh, kiến nghị", "en": "Feedback processing dashboard"},
    "login_title": {"vi": "Đăng nhập cán bộ", "en": "Staff sign-in"},
    "login_intro": {
        "vi": "Dành cho lãnh đạo, cán bộ điều phối và quản trị cơ quan.",
        "en": "For managers, coordinators and agency administrators.",
    },
    "username": {"vi": "Tên đăng nhập", "en": "Username"},
    "password": {"vi": "Mật khẩu", "en": "Password"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "csrf_failed": {
        "vi": "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ; vui lòng thử lại.",
        "en": "The form expired or is not valid; please try again.",
    },
    "forbidden_title": {"vi": "Không có quyền truy cập", "en": "Access denied"},
    "forbidden_body": {
        "vi": "Tài khoản {username} (vai trò {role}) không được xem bảng điều hành. Bảng điều hành dành cho "
              "lãnh đạo, cán bộ điều phối, quản trị hệ thống và quản trị cơ quan.",
        "en": "The account {username} (role {role}) may not view the dashboard. It is for managers, "
              "coordinators, administrators and agency administrators.",
    },
    "role_manager": {"vi": "lãnh đạo", "en": "manager"},
    "role_coordinator": {"vi": "điều phối", "en": "coordinator"},
    "role_admin": {"vi": "quản trị", "en": "administrator"},
    "role_agency_admin": {"vi": "quản trị cơ quan", "en": "agency administrator"},
    "role_officer": {"vi": "cán bộ xử lý", "en": "officer"},
    "scope_all": {"vi": "Toàn tỉnh", "en": "Whole province"},
    # filters
    "filters": {"vi": "Bộ lọc", "en": "Filters"},
    "date_from": {"vi": "Từ ngày", "en": "From"},
    "date_to": {"vi": "Đến ngày", "en": "To"},
    "area": {"vi": "Địa bàn", "en": "Area"},
    "all_areas": {"vi": "Tất cả địa bàn", "en": "All areas"},
    "apply": {"vi": "Xem", "en": "Apply"},
    "preset_this_month": {"vi": "Tháng này", "en": "This month"},
    "preset_last_3_months": {"vi": "3 tháng gần nhất", "en": "Last 3 months"},
    "preset_last_12_months": {"vi": "12 tháng gần nhất", "en": "Last 12 months"},
    "period": {"vi": "Kỳ báo cáo: {start} – {end}", "en": "Period: {start} – {end}"},
    "bad_date": {"vi": "Ngày không hợp lệ: {value}", "en": "Not a valid date: {value}"},
    "bad_range": {"vi": "Ngày bắt đầu phải trước ngày kết thúc.", "en": "The start date must not be after the end date."},
    "bad_area": {"vi": "Địa bàn không tồn tại: {value}", "en": "Unknown area: {value}"},
    "report_error": {"vi": "Không lập được báo cáo: {message}", "en": "The report could not be made: {message}"},
    "generated_at": {"vi": "Số liệu lúc {time}", "en": "Figures as of {time}"},
    # tiles
    "tile_received": {"vi": "Tiếp nhận", "en": "Received"},
    "tile_handled_pct": {"vi": "Tỷ lệ đã xử lý", "en": "Handled"},
    "tile_on_time_pct": {"vi": "Tỷ lệ xử lý đúng hạn", "en": "Handled on time"},
    "tile_overdue": {"vi": "Đang quá hạn", "en": "Overdue now"},
    "tile_handled_of": {"vi": "/ {received} phản ánh đã xử lý", "en": "of {received} items handled"},
    "tile_on_time_of": {"vi": "/ {handled} phản ánh xử lý đúng hạn", "en": "of {handled} handled items on time"},
    "tile_open_suffix": {"vi": "phản ánh đang xử lý", "en": "still open"},
    "tile_overdue_detail": {
        "vi": "Phản ánh chưa xử lý đã quá hạn (mọi thời điểm tiếp nhận)",
        "en": "Open items past their deadline (received at any time)",
    },
    "trend_vs_previous_month": {"vi": "{delta} điểm % so với tháng trước", "en": "{delta} pts vs previous month"},
    "trend_vs_previous_period": {"vi": "{delta} điểm % so với kỳ trước", "en": "{delta} pts vs previous period"},
    "received_vs_previous_month": {"vi": "{change} so với tháng trước", "en": "{change} vs previous month"},
    "received_vs_previous_period": {"vi": "{change} so với kỳ trước", "en": "{change} vs previous period"},
    "trend_none": {"vi": "Chưa có số liệu kỳ trước để so sánh", "en": "No figure for the previous period"},
    # sections
    "ranking_title": {"vi": "Xếp hạng cơ quan xử lý", "en": "Agencies ranked"},
    "ranking_note": {
        "vi": "Xếp theo tỷ lệ đã xử lý, rồi tỷ lệ đúng hạn.",
        "en": "Ranked by the handled share, then the on-time share.",
    },
    "trend_title": {"vi": "Diễn biến 12 tháng", "en": "The last 12 months"},
    "trend_desc": {
        "vi": "Số phản ánh tiếp nhận và đã xử lý mỗi tháng (cột), tỷ lệ xử lý đúng hạn (đường).",
        "en": "Items received and handled each month (bars) and the on-time share (line).",
    },
    "by_category_title": {"vi": "Theo lĩnh vực", "en": "By field"},
    "by_area_title": {"vi": "Theo địa bàn", "en": "By area"},
    "breakdown_desc": {
        "vi": "Mỗi dòng: số tiếp nhận (cột nhạt), số đã xử lý (cột đậm), tỷ lệ đã xử lý và đúng hạn.",
        "en": "Each line: items received (light bar), handled (dark bar), the handled and on-time shares.",
    },
    "empty": {"vi": "Không có phản ánh trong kỳ.", "en": "No items in this period."},
    "col_rank": {"vi": "#", "en": "#"},
    "col_agency": {"vi": "Cơ quan", "en": "Agency"},
    "col_received": {"vi": "Tiếp nhận", "en": "Received"},
    "col_handled": {"vi": "Đã xử lý", "en": "Handled"},
    "col_handled_pct": {"vi": "% đã xử lý", "en": "% handled"},
    "col_on_time_pct": {"vi": "% đúng hạn", "en": "% on time"},
    "col_open": {"vi": "Đang xử lý", "en": "Open"},
    "col_overdue_open": {"vi": "Quá hạn", "en": "Overdue"},
    "col_resolve_hours_p50": {"vi": "Giờ xử lý (trung vị)", "en": "Hours to resolve (median)"},
    "col_rating_avg": {"vi": "Đánh giá", "en": "Rating"},
    "totals": {"vi": "Tổng cộng", "en": "Total"},
    "legend_received": {"vi": "Tiếp nhận", "en": "Received"},
    "legend_handled": {"vi": "Đã xử lý", "en": "Handled"},
    "legend_on_time_pct": {"vi": "Tỷ lệ đúng hạn", "en": "On-time share"},
    "definitions": {
        "vi": "Tỷ lệ đã xử lý = số đã xử lý (giải quyết, kết thúc hoặc từ chối) / số tiếp nhận trong kỳ; "
              "tỷ lệ đúng hạn = số xử lý trước hạn / số đã xử lý. Giờ xử lý tính theo giờ làm việc.",
        "en": "Handled share = items handled (resolved, closed or rejected) / items received in the period; "
              "on-time share = handled by the deadline / handled. Hours are working hours.",
    },
    "month_short": {"vi": "T{month}/{yy}", "en": "{mon} {yy}"},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def current_language() -> str:
    """?lang= first (and remembered for the session), then the session's choice, then Accept-Language."""
    if "dashboard_lang" in g:
        return g.dashboard_lang
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session[LANG_KEY] = asked
        lang = asked
    elif session.get(LANG_KEY) in LANGUAGES:
        lang = session[LANG_KEY]
    else:
        lang = negotiate_language()
    g.dashboard_lang = lang
    return lang


def t(key: str, **params) -> str:
    """A dashboard text, or one of the API's messages (login failures, locks) when the key is theirs."""
    lang = current_language()
    entry = TEXT.get(key)
    if entry is None:
        return translate(key, lang, **params)
    text = entry.get(lang) or entry["vi"]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def month_label(key: str, lang: str) -> str:
    """'2026-03' -> 'T3/26' or 'Mar 26'."""
    year, month = key.split("-")
    entry = TEXT["month_short"][lang]
    return entry.format(month=int(month), yy=year[2:], mon=MONTHS_EN[int(month) - 1])
