"""catalog and policies: products, SKUs, availabilities (prices per market) and operator policies

Revision ID: 0002_catalog_policies
Revises: 0001_foundation
Create Date: 2026-11-25 05:01:43.006869
"""

import sqlalchemy as sa
from alembic import op

import partnerdesk.core.db

revision = '0002_catalog_policies'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalog_products',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('product_type_id', sa.String(length=20), nullable=False),
    sa.Column('sub_type_id', sa.String(length=40), nullable=False),
    sa.Column('publisher', sa.String(length=200), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_products'))
    )
    with op.batch_alter_table('catalog_products', schema=None) as batch_op:
        batch_op.create_index(
            'ix_catalog_products_type_title', ['product_type_id', 'sub_type_id', 'title', 'id'], unique=False
        )

    op.create_table('policies',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_policies'))
    )
    op.create_table('catalog_skus',
    sa.Column('product_id', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('unit_of_measure', sa.String(length=60), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=False),
    sa.Column('max_quantity', sa.Integer(), nullable=False),
    sa.Column('supported_billing_cycles', sa.JSON(), nullable=False),
    sa.Column('purchase_prerequisites', sa.JSON(), nullable=False),
    sa.Column('provisioning_variables', sa.JSON(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('file_types', sa.JSON(), nullable=False),
    sa.Column('arm_sku_name', sa.String(length=80), nullable=False),
    sa.Column('instance_series', sa.String(length=80), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['catalog_products.id'],
                            name=op.f('fk_catalog_skus_product_id_catalog_products')),
    sa.PrimaryKeyConstraint('product_id', 'id', name=op.f('pk_catalog_skus'))
    )
    op.create_table('catalog_availabilities',
    sa.Column('product_id', sa.String(length=20), nullable=False),
    sa.Column('sku_id', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('segment', sa.String(length=20), nullable=False),
    sa.Column('term_duration', sa.String(length=8), nullable=True),
    sa.Column('billing_plan', sa.String(length=16), nullable=False),
    sa.Column('unit_price', partnerdesk.core.db.MoneyAmount(), nullable=False),
    sa.Column('erp_price', partnerdesk.core.db.MoneyAmount(), nullable=True),
    sa.Column('tier_min', sa.Integer(), nullable=True),
    sa.Column('tier_max', sa.Integer(), nullable=True),
    sa.Column('tags', sa.String(length=200), nullable=False),
    sa.Column('effective_start', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('effective_end', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.Column('updated_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['product_id', 'sku_id'], ['catalog_skus.product_id', 'catalog_skus.id'],
                            name=op.f('fk_catalog_availabilities_product_id_catalog_skus')),
    sa.PrimaryKeyConstraint('product_id', 'sku_id', 'id', name=op.f('pk_catalog_availabilities'))
    )
    with op.batch_alter_table('catalog_availabilities', schema=None) as batch_op:
        batch_op.create_index(
            'ix_catalog_availabilities_market', ['country', 'product_id', 'effective_start', 'effective_end'],
            unique=False,
        )



def downgrade() -> None:
    with op.batch_alter_table('catalog_availabilities', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_availabilities_market')

    op.drop_table('catalog_availabilities')
    op.drop_table('catalog_skus')
    op.drop_table('policies')
    with op.batch_alter_table('catalog_products', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_products_type_title')

    op.drop_table('catalog_products')
