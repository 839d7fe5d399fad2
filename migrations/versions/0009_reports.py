"""processing-rate reports: per-item report facts, daily rollups, export requests

Revision ID: 0009_reports
Revises: 0008_staff_email
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0009_reports"
down_revision = "0008_staff_email"
branch_labels = None
depends_on = None

BUCKETS = 32


def upgrade():
    with op.batch_alter_table("feedback_items") as batch_op:
        batch_op.add_column(sa.Column("created_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolve_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("reroutes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("routed_agency_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("auto_routed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_items_created_day", ["created_day"])
    # Items from before this revision: their local day (Asia/Ho_Chi_Minh is UTC+7 all year) and the
    # moment they were handled, from the stamped columns. Their working time to resolve stays unknown.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE feedback_items SET created_day = (created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date")
    else:
        op.execute("UPDATE feedback_items SET created_day = date(created_at, '+7 hours')")
    op.execute(
        "UPDATE feedback_items SET handled_at = CASE status "
        "WHEN 'resolved' THEN resolved_at WHEN 'rejected' THEN rejected_at "
        "WHEN 'closed' THEN CASE WHEN resolved_at IS NOT NULL AND (reopened_at IS NULL OR resolved_at > reopened_at) "
        "THEN resolved_at ELSE closed_at END END"
    )
    op.execute("UPDATE feedback_items SET auto_routed = (routed_by = 'classifier'), routed_agency_id = agency_id "
               "WHERE routed_at IS NOT NULL")
    with op.batch_alter_table("item_events") as batch_op:
        batch_op.create_index("ix_events_created", ["created_at"])

    op.create_table(
        "report_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("rerouted", sa.Integer(), nullable=False),
        sa.Column("auto_routed", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        *[sa.Column(f"r{i:02d}", sa.Integer(), nullable=False) for i in range(BUCKETS)],
        sa.PrimaryKeyConstraint("day", "agency_id", "category_id", "area_id", name="pk_report_rollups"),
    )
    op.create_table(
        "report_rollup_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_report_rollup_days"),
    )
    op.create_table(
        "report_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_report_rollup_state"),
    )
    op.create_table(
        "report_exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("params", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["staff_users.id"], name="fk_report_exports_requested_by"),
        sa.PrimaryKeyConstraint("id", name="pk_report_exports"),
    )


def downgrade():
    op.drop_table("report_exports")
    op.drop_table("report_rollup_state")
    op.drop_table("report_rollup_days")
    op.drop_table("report_rollups")
    with op.batch_alter_table("item_events") as batch_op:
        batch_op.drop_index("ix_events_created")
    with op.batch_alter_table("feedback_items") as batch_op:
        batch_op.drop_index("ix_items_created_day")
        for column in ("auto_routed", "routed_agency_id", "reroutes", "paused_seconds", "resolve_seconds",
                       "handled_at", "created_day"):
            batch_op.drop_column(column)
