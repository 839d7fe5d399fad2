"""monthly report rollups: the sums of a month's daily rollup rows, so that a year's report reads ~12x fewer rows

Revision ID: 0011_monthly_rollups
Revises: 0010_report_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_monthly_rollups"
down_revision = "0010_report_indexes"
branch_labels = None
depends_on = None

COUNTS = ("received", "handled", "handled_on_time", "rerouted", "auto_routed", "ratings", "rating_sum")
BUCKETS = 32


def upgrade():
    op.create_table(
        "report_rollups_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        *[sa.Column(f"r{i:02d}", sa.Integer(), nullable=False) for i in range(BUCKETS)],
        sa.PrimaryKeyConstraint("month", "agency_id", "category_id", "area_id", name="pk_report_rollups_monthly"),
    )


def downgrade():
    op.drop_table("report_rollups_monthly")
