"""idempotency: the index on request ids alone dropped; lookups go by (scope, request id), its unique index

Revision ID: 0008_drop_request_id_index
Revises: 0007_drop_bench_notes
Create Date: 2026-12-03 11:00:00
"""

from alembic import op

revision = "0008_drop_request_id_index"
down_revision = "0007_drop_bench_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_idempotency_records_request_id"), table_name="idempotency_records")


def downgrade() -> None:
    op.create_index(op.f("ix_idempotency_records_request_id"), "idempotency_records", ["request_id"])
