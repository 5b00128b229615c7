"""bench_notes dropped: the benchmarks' naive-INSERT baseline keeps its table in bench/, out of the product

Revision ID: 0007_drop_bench_notes
Revises: 0006_idempotency_request_index
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import partnerdesk.core.db

revision = "0007_drop_bench_notes"
down_revision = "0006_idempotency_request_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("bench_notes")


def downgrade() -> None:
    # As 0001_foundation created it.
    op.create_table("bench_notes",
    sa.Column("id", sa.String(length=36), nullable=False),
    sa.Column("body", sa.String(length=200), nullable=False),
    sa.Column("created_at", partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_bench_notes"))
    )
