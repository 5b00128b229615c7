"""indexes for lists of a million customers and ten million orders

Revision ID: 0017_large_data_indexes
Revises: 0016_price_list_formats
Create Date: 2026-12-03 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0017_large_data_indexes'
down_revision = '0016_price_list_formats'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER


def downgrade() -> None:
    pass  # PLACEHOLDER
