"""support: attachments and the operator queue (rule R6)

Revision ID: 0011_support_queue
Revises: 0010_support
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0011_support_queue'
down_revision = '0010_support'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change


def downgrade() -> None:
    pass  # PLACEHOLDER: filled in by the owner of this change
