"""catalog: Reserved Instance SKUs one per region

Revision ID: 0015_ri_regions
Revises: 0014_sessions
Create Date: 2026-12-03 17:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0015_ri_regions'
down_revision = '0014_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER


def downgrade() -> None:
    pass  # PLACEHOLDER
