"""Migrations: empty to head on both engines, the result matches the models, and back down."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from partnerdesk.core.db import Base
from partnerdesk.migrations import runner
from partnerdesk.models import import_all_models


@pytest.fixture
def empty_url(database_url, tmp_path):
    """An empty database (no tables at all) on the engine of `database_url`."""
    url = database_url
    if url.startswith("sqlite"):
        path = tmp_path / "empty.db"
        yield f"sqlite:///{path}"
        return
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def test_upgrade_from_empty_reaches_every_head(empty_url):
    runner.upgrade(empty_url)
    assert runner.is_up_to_date(empty_url)


def test_the_migrated_schema_matches_the_models(empty_url):
    runner.upgrade(empty_url)
    import_all_models()
    engine = create_engine(empty_url, poolclass=NullPool)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_to_base_and_up_again(empty_url):
    runner.upgrade(empty_url)
    from alembic import command

    command.downgrade(runner.alembic_config(empty_url), "base")
    engine = create_engine(empty_url, poolclass=NullPool)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    runner.upgrade(empty_url)
    assert runner.is_up_to_date(empty_url)
