"""indexes for the clock watcher: alerts by pass, open items by their marks

Revision ID: 0006_watcher_indexes
Revises: 0005_deliveries
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_watcher_indexes"
down_revision = "0005_deliveries"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_clock_alerts_pass", "clock_alerts", ["goal", "level", "created_at"])


def downgrade():
    op.drop_index("ix_clock_alerts_pass", table_name="clock_alerts")
