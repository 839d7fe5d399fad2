"""staff e-mail, for warnings and breaches

Revision ID: 0008_staff_email
Revises: 0007_outbox_processed
"""
from alembic import op
import sqlalchemy as sa

revision = "0008_staff_email"
down_revision = "0007_outbox_processed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_users") as batch_op:
        batch_op.drop_column("email")
