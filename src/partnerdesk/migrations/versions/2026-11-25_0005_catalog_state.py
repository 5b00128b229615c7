"""catalog state: a version that triggers bump on every catalog write, for caches to check

Revision ID: 0005_catalog_state
Revises: 0004_orders_billing
Create Date: 2026-11-25 05:40:00
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005_catalog_state"
down_revision = "0004_orders_billing"
branch_labels = None
depends_on = None

TABLES = ("catalog_products", "catalog_skus", "catalog_availabilities")
BUMP = "UPDATE catalog_state SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    op.execute(f"INSERT INTO catalog_state (id, epoch, version) VALUES (1, '{uuid.uuid4()}', 0)")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite has only row triggers: one small UPDATE per changed row.
        for table in TABLES:
            for verb in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_{verb.lower()}_bumps_version AFTER {verb} ON {table} "
                           f"BEGIN {BUMP}; END")
        return
    op.execute(f"CREATE FUNCTION catalog_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN {BUMP}; RETURN NULL; END $$")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_bumps_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalog_bump_version()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{verb}_bumps_version")
    else:
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bumps_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalog_bump_version()")
    op.drop_table("catalog_state")
