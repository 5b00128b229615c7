"""hybrid benefit: rate table and stored estimates (rule R7)

Revision ID: 0012_hybrid_benefit
Revises: 0011_support_queue
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0012_hybrid_benefit'
down_revision = '0011_support_queue'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change


def downgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change
