"""report index: open items past their deadline, for the overdue counts of every report and the overdue list

Each processing-rate report counts its overdue open items from feedback_items (status open, not waiting for the
citizen, due_at < now, created_day in the period, grouped by agency, field, area or day) and the overdue list
orders the same items by deadline. Without this index PostgreSQL found them through ix_items_open_queue and read
one heap page per item: ~200 ms a report with 1,000,000 items (bench/reports.py), five times on the dashboard.
Partial (only open, unpaused items) and covering (the grouping columns are included), it answers the counts
with an index-only scan and the list's first page with one ordered walk.

Revision ID: 0010_report_indexes
Revises: 0009_reports
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_report_indexes"
down_revision = "0009_reports"
branch_labels = None
depends_on = None

OVERDUE_FILTER = (
    "status IN ('received', 'routed', 'needs_triage', 'in_progress', 'waiting_citizen', 'reopened') "
    "AND paused_at IS NULL"
)


def upgrade():
    op.create_index(
        "ix_items_overdue", "feedback_items", ["due_at", "created_at", "id"],
        postgresql_include=["created_day", "agency_id", "category_id", "area_id"],
        postgresql_where=sa.text(OVERDUE_FILTER), sqlite_where=sa.text(OVERDUE_FILTER),
    )


def downgrade():
    op.drop_index("ix_items_overdue", table_name="feedback_items")
