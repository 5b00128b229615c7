"""Imports every domain's tables so that `Base.metadata` is complete (for Alembic and tests)."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "partnerdesk.accounts.models",
    "partnerdesk.customers.models",
    "partnerdesk.audit.models",
    "partnerdesk.sandbox.models",
    "partnerdesk.core.idempotency",
)


def import_all_models() -> None:
    from partnerdesk.domains import MODEL_MODULES as DOMAIN_MODEL_MODULES

    for name in MODEL_MODULES + DOMAIN_MODEL_MODULES:
        importlib.import_module(name)
