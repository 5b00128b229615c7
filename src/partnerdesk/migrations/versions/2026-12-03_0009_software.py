"""software: installation files, product-key pools and download links (rules R3, R4)

Revision ID: 0009_software
Revises: 0008_drop_request_id_index
Create Date: 2026-12-03 11:42:09.242081
"""

from alembic import op
import sqlalchemy as sa
import partnerdesk.core.db


revision = '0009_software'
down_revision = '0008_drop_request_id_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('product_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=20), nullable=False),
    sa.Column('sku_id', sa.String(length=20), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('last_five', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('entitlement_id', sa.String(length=36), nullable=True),
    sa.Column('imported_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('issued_at', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_keys')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_product_keys_fingerprint'))
    )
    with op.batch_alter_table('product_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_keys_entitlement_id'), ['entitlement_id'], unique=False)
        batch_op.create_index('ix_product_keys_pool', ['product_id', 'sku_id', 'version', 'status', 'imported_at'], unique=False)

    op.create_table('software_files',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=20), nullable=False),
    sa.Column('sku_id', sa.String(length=20), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('file_type', sa.String(length=60), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.ForeignKeyConstraint(['product_id', 'sku_id'], ['catalog_skus.product_id', 'catalog_skus.id'], name=op.f('fk_software_files_product_id_catalog_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_software_files')),
    sa.UniqueConstraint('product_id', 'sku_id', 'version', 'language', 'file_type', 'file_name', name='uq_software_files_choice_name')
    )
    op.create_table('download_links',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('entitlement_id', sa.String(length=36), nullable=False),
    sa.Column('file_id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('customer_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('expires_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('max_downloads', sa.Integer(), nullable=False),
    sa.Column('downloads_used', sa.Integer(), nullable=False),
    sa.Column('revoked_at', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['software_files.id'], name=op.f('fk_download_links_file_id_software_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_download_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_download_links_token_hash'))
    )
    with op.batch_alter_table('download_links', schema=None) as batch_op:
        batch_op.create_index('ix_download_links_entitlement', ['entitlement_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('download_links', schema=None) as batch_op:
        batch_op.drop_index('ix_download_links_entitlement')

    op.drop_table('download_links')
    op.drop_table('software_files')
    with op.batch_alter_table('product_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_product_keys_pool')
        batch_op.drop_index(batch_op.f('ix_product_keys_entitlement_id'))

    op.drop_table('product_keys')
