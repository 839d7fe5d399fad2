"""deliveries: drop the index on outbox_id

Since the batch looks deliveries up by their unique key (which begins with the message id), nothing reads
deliveries by outbox_id, yet every delivery (one per notification, 200 a second under bench/load.py) kept the
index up. A support look-up of one message's deliveries can filter on the key's prefix (`key LIKE '<id>:%'`), a
scan of the table that a look-up now and then can afford.

Revision ID: 0017_drop_delivery_outbox_index
Revises: 0016_delivery_claims
"""
from alembic import op

revision = "0017_drop_delivery_outbox_index"
down_revision = "0016_delivery_claims"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_outbox_id")


def downgrade():
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.create_index("ix_deliveries_outbox_id", ["outbox_id"], unique=False)
