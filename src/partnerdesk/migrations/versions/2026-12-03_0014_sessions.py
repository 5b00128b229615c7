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
    op.create_table('portal_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agent_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', partnerdesk.core.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.Column('ip_address', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_portal_sessions_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_portal_sessions_token_hash'))
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_agent_id'), ['agent_id'], unique=False)

    op.create_table('throttle_counters',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', partnerdesk.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counters'))
    )
    with op.batch_alter_table('throttle_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counters_expires_at'), ['expires_at'], unique=False)


    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_time_zone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('preferred_time_zone')
    with op.batch_alter_table('throttle_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counters_expires_at'))
    op.drop_table('throttle_counters')
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_sessions_agent_id'))
    op.drop_table('portal_sessions')
