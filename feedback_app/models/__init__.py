"""Every model, imported so that Alembic and the app see one metadata."""
from feedback_app.models.clocks import CalendarDay, ClockAlert, SlaPolicy
from feedback_app.models.directory import Agency, Area, DirectoryVersion, Field, RoutingRule
from feedback_app.models.feedback import Attachment, FeedbackItem, ItemContact, ItemEvent
from feedback_app.models.staff import StaffUser
from feedback_app.models.reports import ReportExport, ReportRollupDay, ReportRollupState, report_rollups, report_rollups_monthly
from feedback_app.models.platform import ApiClient, ClassifierModel, Delivery, IdempotencyRecord, OutboxMessage

__all__ = [
    "Agency",
    "ApiClient",
    "Area",
    "Attachment",
    "CalendarDay",
    "ClockAlert",
    "ClassifierModel",
    "Delivery",
    "DirectoryVersion",
    "FeedbackItem",
    "Field",
    "IdempotencyRecord",
    "ItemContact",
    "ItemEvent",
    "OutboxMessage",
    "ReportExport",
    "ReportRollupDay",
    "ReportRollupState",
    "RoutingRule",
    "SlaPolicy",
    "StaffUser",
    "report_rollups",
    "report_rollups_monthly",
]
