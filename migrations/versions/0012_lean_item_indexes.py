"""fewer indexes on the intake path: every citizen's submission updates each of them

Dropped: agency_id alone (the leading column of ix_items_agency_status_due), status alone (the open statuses
have their partial indexes; needs_triage gets a small partial one), due_at alone (ix_items_overdue serves the
clock watcher and reports), item_events (kind, created_at) (no query filters a kind by time; created_at has
its own index). merged_into_id is indexed only where it is set.

Revision ID: 0012_lean_item_indexes
Revises: 0011_monthly_rollups
"""
from alembic import op
import sqlalchemy as sa

revision = "0012_lean_item_indexes"
down_revision = "0011_monthly_rollups"
branch_labels = None
depends_on = None

TRIAGE = "status = 'needs_triage'"
MERGED = "merged_into_id IS NOT NULL"


def upgrade():
    with op.batch_alter_table("feedback_items") as batch_op:
        batch_op.drop_index("ix_feedback_items_agency_id")
        batch_op.drop_index("ix_feedback_items_status")
        batch_op.drop_index("ix_feedback_items_due_at")
        batch_op.drop_index("ix_feedback_items_merged_into_id")
        batch_op.create_index("ix_items_needs_triage", ["created_at"], postgresql_where=sa.text(TRIAGE),
                              sqlite_where=sa.text(TRIAGE))
        batch_op.create_index("ix_items_merged_into", ["merged_into_id"], postgresql_where=sa.text(MERGED),
                              sqlite_where=sa.text(MERGED))
    with op.batch_alter_table("item_events") as batch_op:
        batch_op.drop_index("ix_events_kind_created")


def downgrade():
    with op.batch_alter_table("item_events") as batch_op:
        batch_op.create_index("ix_events_kind_created", ["kind", "created_at"])
    with op.batch_alter_table("feedback_items") as batch_op:
        batch_op.drop_index("ix_items_merged_into")
        batch_op.drop_index("ix_items_needs_triage")
        batch_op.create_index("ix_feedback_items_merged_into_id", ["merged_into_id"])
        batch_op.create_index("ix_feedback_items_due_at", ["due_at"])
        batch_op.create_index("ix_feedback_items_status", ["status"])
        batch_op.create_index("ix_feedback_items_agency_id", ["agency_id"])
