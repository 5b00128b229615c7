"""The list of domains beyond the foundation, so the app and the CLI pick them up in one place."""

from __future__ import annotations

import importlib

# Modules holding tables, imported before Alembic or the tests read `Base.metadata`.
MODEL_MODULES: tuple[str, ...] = (
    "partnerdesk.policies.models", "partnerdesk.catalog.models",
)
# Modules with `router`, in the order they appear in the OpenAPI document.
API_MODULES: tuple[str, ...] = (
    "partnerdesk.policies.api", "partnerdesk.catalog.api",
)
# Typer apps added to the CLI: (module with `app`, command name).
CLI_MODULES: tuple[tuple[str, str], ...] = (
    ("partnerdesk.policies.cli", "policies"), ("partnerdesk.catalog.cli", "catalog"),
)


# Functions `load(db, now, log)` that add a domain's demo data idempotently, in this order.
DEMO_LOADERS: tuple[str, ...] = (
    "partnerdesk.catalog.demo.load",
)


def api_routers() -> list:
    return [importlib.import_module(name).router for name in API_MODULES]


def cli_apps() -> list[tuple[object, str]]:
    return [(importlib.import_module(module).app, name) for module, name in CLI_MODULES]


def demo_loaders() -> list:
    loaders = []
    for dotted in DEMO_LOADERS:
        module, _, function = dotted.rpartition(".")
        loaders.append(getattr(importlib.import_module(module), function))
    return loaders
