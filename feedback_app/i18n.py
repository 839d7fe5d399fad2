"""Messages for people in Vietnamese and English, chosen by Accept-Language (Vietnamese first)."""
from __future__ import annotations

from flask import has_request_context, request

LANGUAGES = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "bad_request": {"vi": "Yêu cầu không hợp lệ.", "en": "The request is not valid."},
    "invalid_json": {"vi": "Nội dung JSON không đọc được.", "en": "The JSON body could not be parsed."},
    "validation_failed": {
        "vi": "Dữ liệu gửi lên chưa hợp lệ, vui lòng kiểm tra các trường được nêu.",
        "en": "Some fields are not valid; see the errors for each field.",
    },
    "unauthorized": {"vi": "Cần xác thực.", "en": "Authentication is required."},
    "forbidden": {"vi": "Bạn không có quyền thực hiện thao tác này.", "en": "You are not allowed to do this."},
    "login_failed": {"vi": "Tên đăng nhập hoặc mật khẩu không đúng.", "en": "Wrong username or password."},
    "login_slow_down": {
        "vi": "Đăng nhập sai nhiều lần; vui lòng đợi {retry_after} giây rồi thử lại.",
        "en": "Too many failed logins; wait {retry_after} seconds and try again.",
    },
    "account_locked": {
        "vi": "Tài khoản tạm khóa do đăng nhập sai nhiều lần; thử lại sau {retry_after} giây.",
        "en": "The account is locked after repeated failures; try again in {retry_after} seconds.",
    },
    "staff_only": {"vi": "Chức năng dành cho cán bộ đã đăng nhập.", "en": "Staff sign-in required."},
    "role_forbidden": {
        "vi": "Vai trò {role} không được thực hiện thao tác {action}.",
        "en": "The {role} role may not {action}.",
    },
    "precondition_required": {
        "vi": "Cần gửi If-Match với ETag hiện tại của phản ánh.",
        "en": "Send If-Match with the item's current ETag.",
    },
    "answer_required": {
        "vi": "Cần có câu trả lời trước khi kết thúc xử lý.",
        "en": "An answer is needed before resolving.",
    },
    "evidence_required": {
        "vi": "Cần có bằng chứng (tệp đính kèm) hoặc lý do không có bằng chứng.",
        "en": "Evidence is needed: an attachment, or a stated reason why there is none.",
    },
    "rating_not_allowed": {
        "vi": "Chỉ đánh giá được khi phản ánh đã được giải quyết.",
        "en": "Only a resolved item can be rated.",
    },
    "not_found": {"vi": "Không tìm thấy.", "en": "Not found."},
    "item_not_found": {"vi": "Không tìm thấy phản ánh với mã này.", "en": "No feedback with this tracking code."},
    "method_not_allowed": {"vi": "Phương thức không được hỗ trợ.", "en": "Method not allowed."},
    "conflict": {"vi": "Xung đột dữ liệu.", "en": "Conflict."},
    "illegal_transition": {
        "vi": "Không thể chuyển từ trạng thái {from_status} sang {to_status}.",
        "en": "Cannot move from {from_status} to {to_status}.",
    },
    "stale_version": {
        "vi": "Dữ liệu đã được người khác thay đổi, vui lòng tải lại.",
        "en": "Someone else changed this item; reload it and try again.",
    },
    "idempotency_in_progress": {
        "vi": "Yêu cầu với khóa này đang được xử lý, vui lòng thử lại sau.",
        "en": "A request with this Idempotency-Key is still being processed; retry later.",
    },
    "idempotency_mismatch": {
        "vi": "Khóa Idempotency-Key đã được dùng cho một yêu cầu khác.",
        "en": "This Idempotency-Key was already used with a different request body.",
    },
    "idempotency_key_invalid": {
        "vi": "Khóa Idempotency-Key phải dài 1 đến 200 ký tự.",
        "en": "Idempotency-Key must be 1 to 200 printable characters.",
    },
    "unprocessable": {"vi": "Không thể xử lý yêu cầu.", "en": "The request cannot be processed."},
    "too_large": {"vi": "Dữ liệu gửi lên quá lớn.", "en": "The request is too large."},
    "file_too_large": {
        "vi": "Tệp {name} vượt quá {limit_mb} MB.",
        "en": "File {name} is larger than {limit_mb} MB.",
    },
    "too_many_files": {
        "vi": "Chỉ được gửi tối đa {limit} tệp.",
        "en": "At most {limit} files may be sent.",
    },
    "unsupported_media_type": {
        "vi": "Định dạng nội dung không được hỗ trợ; hãy gửi JSON hoặc multipart/form-data.",
        "en": "Unsupported content type; send JSON or multipart/form-data.",
    },
    "unsupported_file_type": {
        "vi": "Tệp {name} không phải ảnh JPEG, PNG, WebP hoặc video MP4.",
        "en": "File {name} is not a JPEG, PNG or WebP image or an MP4 video.",
    },
    "rate_limited": {
        "vi": "Bạn gửi quá nhiều yêu cầu, vui lòng thử lại sau.",
        "en": "Too many requests; please try again later.",
    },
    "invalid_citizen_token": {
        "vi": "Mã bí mật của người gửi không đúng.",
        "en": "The citizen token is not valid for this item.",
    },
    "item_closed_for_messages": {
        "vi": "Phản ánh đã kết thúc, không thể bổ sung thông tin.",
        "en": "This item is finished; no more information can be added.",
    },
    "unknown_category": {"vi": "Lĩnh vực không tồn tại.", "en": "Unknown category."},
    "unknown_area": {"vi": "Địa bàn không tồn tại.", "en": "Unknown area."},
    "internal_error": {
        "vi": "Hệ thống gặp lỗi, vui lòng thử lại sau.",
        "en": "Something went wrong on our side; please try again later.",
    },
    "open311_api_key_missing": {
        "vi": "Cần api_key để gửi yêu cầu qua Open311.",
        "en": "An api_key is required to submit a request.",
    },
    "open311_api_key_invalid": {
        "vi": "api_key không hợp lệ hoặc đã bị thu hồi.",
        "en": "The api_key is not valid or was revoked.",
    },
    "open311_api_key_scope": {
        "vi": "api_key này không được cấp quyền open311.",
        "en": "This api_key does not have the open311 scope.",
    },
    "open311_jurisdiction": {
        "vi": "Không phục vụ jurisdiction_id '{given}'; jurisdiction_id ở đây là '{served}'.",
        "en": "jurisdiction_id '{given}' is not served here; this endpoint serves '{served}'.",
    },
    "open311_service_not_found": {
        "vi": "Không có dịch vụ với service_code '{service_code}'.",
        "en": "No service with service_code '{service_code}'.",
    },
    "open311_request_not_found": {
        "vi": "Không có yêu cầu với service_request_id '{service_request_id}'.",
        "en": "No request with service_request_id '{service_request_id}'.",
    },
    "open311_token_not_found": {
        "vi": "Không có yêu cầu với token '{token}'.",
        "en": "No request with token '{token}'.",
    },
    "open311_notice_triage": {
        "vi": "Phản ánh đang được phân loại để chuyển đến cơ quan có thẩm quyền.",
        "en": "The request is being sorted and will be passed to the competent agency.",
    },
    "open311_notice_routed": {
        "vi": "{agency} tiếp nhận và giải quyết trước {due}.",
        "en": "{agency} handles this request by {due}.",
    },
    "open311_notice_agency": {
        "vi": "{agency} tiếp nhận và giải quyết.",
        "en": "{agency} handles this request.",
    },
    "open311_form_expected": {
        "vi": "Gửi yêu cầu dạng application/x-www-form-urlencoded (hoặc multipart/form-data khi kèm ảnh).",
        "en": "Send the request as application/x-www-form-urlencoded (or multipart/form-data with photos).",
    },
    "open311_submitted_about": {"vi": "Phản ánh về {service}", "en": "A report about {service}"},
    "service_unavailable": {
        "vi": "Dịch vụ tạm thời không sẵn sàng.",
        "en": "The service is temporarily unavailable.",
    },
}

# marshmallow's own messages, for the per-field errors of a 422.
FIELD_MESSAGES_VI = {
    "Missing data for required field.": "Thiếu dữ liệu cho trường bắt buộc.",
    "Unknown field.": "Trường không được chấp nhận.",
    "Not a valid string.": "Không phải chuỗi ký tự hợp lệ.",
    "Not a valid integer.": "Không phải số nguyên hợp lệ.",
    "Not a valid number.": "Không phải số hợp lệ.",
    "Not a valid boolean.": "Không phải giá trị đúng/sai hợp lệ.",
    "Not a valid email address.": "Địa chỉ email không hợp lệ.",
    "Not a valid mapping type.": "Không phải đối tượng hợp lệ.",
    "Field may not be null.": "Trường không được để trống (null).",
    "Invalid input type.": "Kiểu dữ liệu không hợp lệ.",
    "Invalid value.": "Giá trị không hợp lệ.",
}


def negotiate_language() -> str:
    if not has_request_context():
        return "vi"
    return request.accept_languages.best_match(LANGUAGES) or "vi"


def translate(key: str, lang: str | None = None, **params) -> str:
    lang = lang or negotiate_language()
    entry = MESSAGES.get(key) or MESSAGES["bad_request"]
    text = entry.get(lang) or entry["vi"]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def translate_field_errors(errors, lang: str | None = None):
    """Walk marshmallow's nested error dict, translating the messages it knows."""
    lang = lang or negotiate_language()
    if lang != "vi":
        return errors
    if isinstance(errors, dict):
        return {k: translate_field_errors(v, lang) for k, v in errors.items()}
    if isinstance(errors, list):
        return [translate_field_errors(v, lang) for v in errors]
    if isinstance(errors, str):
        if errors in FIELD_MESSAGES_VI:
            return FIELD_MESSAGES_VI[errors]
        if errors.startswith("Length must be between"):
            return "Độ dài không hợp lệ: " + errors
        if errors.startswith("Must be one of"):
            return "Giá trị phải thuộc: " + errors.split(":", 1)[-1].strip()
        if errors.startswith("Must be greater than or equal to") or errors.startswith("Must be less than"):
            return "Giá trị ngoài khoảng cho phép: " + errors
    return errors
