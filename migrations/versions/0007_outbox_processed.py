"""outbox messages record when their job finished

Revision ID: 0007_outbox_processed
Revises: 0006_watcher_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_outbox_processed"
down_revision = "0006_watcher_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.add_column(sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_column("processed_at")
