"""The 0003 migration creates exactly the webhooks and jobs tables the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from partnerdesk.core.db import Base, unpooled_engine
from partnerdesk.models import import_all_models

OWN_TABLES = {"jobs", "webhook_endpoints", "webhook_events", "webhook_deliveries", "webhook_attempts"}


def _concerns_own_tables(difference) -> bool:
    # Differences are nested tuples of objects and names; their repr names the table either way.
    text = repr(difference)
    return any(marker in text for table in OWN_TABLES for marker in (f"'{table}'", f"<{table}>"))


def test_the_migrated_schema_matches_the_models(database_url):
    import_all_models()
    engine = unpooled_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) >= OWN_TABLES
    assert [d for d in differences if _concerns_own_tables(d)] == []
