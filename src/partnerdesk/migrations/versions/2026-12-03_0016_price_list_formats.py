"""catalog: price lists in Partner Center's formats

Revision ID: 0016_price_list_formats
Revises: 0015_ri_regions
Create Date: 2026-12-03 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0016_price_list_formats'
down_revision = '0015_ri_regions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER


def downgrade() -> None:
    pass  # PLACEHOLDER
