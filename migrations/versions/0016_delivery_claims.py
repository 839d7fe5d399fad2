"""deliveries: a claim is a lease (claimed_at), not a transaction held open across the webhook's POST

Until now a delivery's row was inserted in a transaction left open while the worker posted the webhook, so
that a twin job waited on the unique key. That held a PostgreSQL transaction (and its row lock) open for as
long as the agency took to answer, up to the webhook timeout, and cost every message a BEGIN and a COMMIT.
Now the claim commits at once with status 'sending' and the time in claimed_at; another job takes the key
only once the claim is older than DELIVERY_LEASE_SECONDS (a worker killed mid-POST).

Revision ID: 0016_delivery_claims
Revises: 0015_outbox_partial_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_delivery_claims"
down_revision = "0015_outbox_partial_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # A claim left 'sending' by a killed worker is pending again under the old protocol.
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("claimed_at")
