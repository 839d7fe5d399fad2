"""partial index for the agency queue (open items in deadline order)

Revision ID: 0003_open_queue_index
Revises: 0002_triage
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_open_queue_index"
down_revision = "0002_triage"
branch_labels = None
depends_on = None

OPEN_FILTER = "status IN ('received', 'routed', 'needs_triage', 'in_progress', 'waiting_citizen', 'reopened')"


def upgrade():
    op.create_index(
        "ix_items_open_queue", "feedback_items", ["agency_id", "due_at", "created_at"],
        postgresql_where=sa.text(OPEN_FILTER), sqlite_where=sa.text(OPEN_FILTER),
    )


def downgrade():
    op.drop_index("ix_items_open_queue", table_name="feedback_items")
