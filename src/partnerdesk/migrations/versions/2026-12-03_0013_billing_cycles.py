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
    op.create_table('subscription_charges',
    sa.Column('subscription_id', sa.String(length=36), nullable=False),
    sa.Column('period_number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('period_start', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('period_end', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.Column('unit_price', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('charged_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('subscription_id', 'period_number', name=op.f('pk_subscription_charges'))
    )
    op.create_table('invoice_number_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_invoice_number_counters'))
    )
    with op.batch_alter_table('billing_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('closed_at', partnerdesk.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('subtotal', partnerdesk.core.db.MoneyAmount(), nullable=True))
        batch_op.add_column(sa.Column('tax_total', partnerdesk.core.db.MoneyAmount(), nullable=True))
        batch_op.add_column(sa.Column('total', partnerdesk.core.db.MoneyAmount(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_invoices_number'), ['number'])
    with op.batch_alter_table('invoice_line_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_rate', partnerdesk.core.db.MoneyAmount(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('tax_amount', partnerdesk.core.db.MoneyAmount(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_renew_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('auto_renew_enabled')
    with op.batch_alter_table('invoice_line_items', schema=None) as batch_op:
        batch_op.drop_column('tax_amount')
        batch_op.drop_column('tax_rate')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_invoices_number'), type_='unique')
        for column in ('total', 'tax_total', 'subtotal', 'closed_at', 'number'):
            batch_op.drop_column(column)
    with op.batch_alter_table('billing_profiles', schema=None) as batch_op:
        batch_op.drop_column('language')
    op.drop_table('invoice_number_counters')
    op.drop_table('subscription_charges')
