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
    op.create_table('service_request_attachments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('service_request_id', sa.String(length=36), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['service_request_id'], ['service_requests.id'], name=op.f('fk_service_request_attachments_service_request_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_request_attachments'))
    )
    with op.batch_alter_table('service_request_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_service_request_attachments_request', ['service_request_id', 'created_at'], unique=False)

    op.create_table('support_emails',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('service_request_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['service_request_id'], ['service_requests.id'], name=op.f('fk_support_emails_service_request_id_service_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_emails'))
    )
    with op.batch_alter_table('support_emails', schema=None) as batch_op:
        batch_op.create_index('ix_support_emails_request', ['service_request_id', 'created_at'], unique=False)

    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('decided_at', partnerdesk.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('approved_amount', partnerdesk.core.db.MoneyAmount(), nullable=True))
        batch_op.add_column(sa.Column('credited_amount', partnerdesk.core.db.MoneyAmount(), nullable=True))
        batch_op.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('order_line_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancellation_reason', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('order_line_items', schema=None) as batch_op:
        batch_op.drop_column('cancellation_reason')
    with op.batch_alter_table('refund_requests', schema=None) as batch_op:
        for column in ('override_reason', 'decision_note', 'credited_amount', 'approved_amount', 'decided_by',
                       'decided_at', 'decision'):
            batch_op.drop_column(column)
    with op.batch_alter_table('support_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_support_emails_request')
    op.drop_table('support_emails')
    with op.batch_alter_table('service_request_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_service_request_attachments_request')
    op.drop_table('service_request_attachments')
