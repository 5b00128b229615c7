"""billing: recurring charges, invoice numbers and tax

Revision ID: 0013_billing_cycles
Revises: 0012_hybrid_benefit
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0013_billing_cycles'
down_revision = '0012_hybrid_benefit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change


def downgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change
