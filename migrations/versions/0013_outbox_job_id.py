"""outbox messages remember their RQ job: the relay sends them in batches, one job for up to 50 messages

Revision ID: 0013_outbox_job_id
Revises: 0012_lean_item_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_outbox_job_id"
down_revision = "0012_lean_item_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_column("job_id")
