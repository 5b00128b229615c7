"""The process-wide context an app or a CLI command runs with."""

from __future__ import annotations

from dataclasses import dataclass

from partnerdesk.config import Settings
from partnerdesk.core.clock import Clock, SystemClock
from partnerdesk.core.db import Database
from partnerdesk.core.secrets import KeyRing, load_or_create_secret_key


@dataclass
class Desk:
    settings: Settings
    database: Database
    keyring: KeyRing
    # The wall clock; in sandbox mode the stored test-clock offset is added per request.
    clock: Clock

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> Desk:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            settings=settings,
            database=Database(settings.resolved_database_url, pool_size=settings.database_pool_size,
                              prepared_statements=settings.database_prepared_statements),
            keyring=KeyRing(load_or_create_secret_key(settings.data_dir, settings.secret_key)),
            clock=clock or SystemClock(),
        )
