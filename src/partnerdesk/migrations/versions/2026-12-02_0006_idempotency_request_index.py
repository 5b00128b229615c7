"""idempotency: request ids indexed alone, for the write units' lookup before the caller is known

Revision ID: 0006_idempotency_request_index
Revises: 0005_catalog_state
Create Date: 2026-12-02 13:20:00
"""

from alembic import op

revision = "0006_idempotency_request_index"
down_revision = "0005_catalog_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_idempotency_records_request_id"), "idempotency_records", ["request_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_records_request_id"), table_name="idempotency_records")
