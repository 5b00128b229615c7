"""The catalog and policies migration builds exactly the tables the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from partnerdesk.core.db import Base, unpooled_engine
from partnerdesk.models import import_all_models

OURS = ("catalog_products", "catalog_skus", "catalog_availabilities", "catalog_state", "policies")


def test_migrated_schema_matches_the_models(database_url):
    import_all_models()
    engine = unpooled_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                diff
                for diff in compare_metadata(context, Base.metadata)
                if any(t in str(diff) for t in OURS)
            ]
    finally:
        engine.dispose()
    assert differences == []
