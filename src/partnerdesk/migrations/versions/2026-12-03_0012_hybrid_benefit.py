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
    op.create_table('hybrid_vm_rates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('size', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=60), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('v_cpus', sa.Integer(), nullable=False),
    sa.Column('windows_rate_per_hour', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('base_rate_per_hour', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('updated_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hybrid_vm_rates')),
    sa.UniqueConstraint('size', 'region', 'currency', name=op.f('uq_hybrid_vm_rates_size_region_currency'))
    )
    op.create_table('hybrid_estimates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pay_as_you_go', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('saving', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_hybrid_estimates_customer_id_customers')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_hybrid_estimates_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hybrid_estimates'))
    )
    with op.batch_alter_table('hybrid_estimates', schema=None) as batch_op:
        batch_op.create_index('ix_hybrid_estimates_customer', ['customer_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hybrid_estimates', schema=None) as batch_op:
        batch_op.drop_index('ix_hybrid_estimates_customer')

    op.drop_table('hybrid_estimates')
    op.drop_table('hybrid_vm_rates')
