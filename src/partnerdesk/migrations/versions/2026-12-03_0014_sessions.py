"""accounts: server-side sessions and sign-in throttling

Revision ID: 0014_sessions
Revises: 0013_billing_cycles
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0014_sessions'
down_revision = '0013_billing_cycles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change


def downgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change
