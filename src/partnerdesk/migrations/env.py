"""Alembic environment: runs on the connection handed over by `partnerdesk.migrations.runner`."""

from __future__ import annotations

from alembic import context

from partnerdesk.core.db import Base, unpooled_engine
from partnerdesk.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = unpooled_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()
