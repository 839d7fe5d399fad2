"""the outbox's look-ups by partial indexes in id order: pending for the relay, unprocessed for the reconciler

ix_outbox_pending was on (dispatched_at, id). Each relayed message leaves its old entry (dispatched_at NULL)
behind until a VACUUM, and the planner read the index with a bitmap scan, which visits every such stale
entry on each pass and never marks them dead: after 150 s of load with autovacuum off, 62,000 of them and
24 ms per pass, growing. A partial index on id WHERE dispatched_at IS NULL is walked in order for the relay's
ORDER BY id LIMIT; the index scan marks the stale entries it meets as dead, so the next pass skips them
(0.8 ms in the same test). The reconciler's scan for dispatched, unprocessed messages had no index of its
own and read the whole table; it gets ix_outbox_unprocessed.

Revision ID: 0015_outbox_partial_indexes
Revises: 0014_queue_order_index
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_outbox_partial_indexes"
down_revision = "0014_queue_order_index"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_pending", ["id"], unique=False,
                              postgresql_where=sa.text("dispatched_at IS NULL"),
                              sqlite_where=sa.text("dispatched_at IS NULL"))
        batch_op.create_index("ix_outbox_unprocessed", ["id"], unique=False,
                              postgresql_where=sa.text("processed_at IS NULL"),
                              sqlite_where=sa.text("processed_at IS NULL"))


def downgrade():
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.drop_index("ix_outbox_unprocessed")
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_pending", ["dispatched_at", "id"], unique=False)
