"""The list of domains beyond the foundation, so the app and the CLI pick them up in one place."""

from __future__ import annotations

import importlib

# Modules holding tables, imported before Alembic or the tests read `Base.metadata`.
MODEL_MODULES: tuple[str, ...] = (
    "partnerdesk.policies.models", "partnerdesk.catalog.models",
    "partnerdesk.accounts.models", "partnerdesk.core.throttling",  # accounts: for its pages (agents, sessions)
    "partnerdesk.jobs.models",
    "partnerdesk.webhooks.models",
    "partnerdesk.reservations.models", "partnerdesk.orders.models", "partnerdesk.billing.models",
    "partnerdesk.software.models",
    "partnerdesk.support.models",
    "partnerdesk.hybrid.models",
    "partnerdesk.audit.models",  # a foundation table, listed so the portal finds audit.web's pages
)
# Modules with `router`, in the order they appear in the OpenAPI document.
API_MODULES: tuple[str, ...] = (
    # Routes are tried in this order: reservations before orders, so its `/subscriptions/azureplan`
    # wins over orders' `/subscriptions/{subscriptionId}`.
    "partnerdesk.reservations.api", "partnerdesk.orders.api", "partnerdesk.software.api",
    "partnerdesk.catalog.api", "partnerdesk.billing.api", "partnerdesk.policies.api", "partnerdesk.webhooks.api",
    "partnerdesk.support.api",
    "partnerdesk.hybrid.api",
    "partnerdesk.catalog.pricelist_api",  # the operator's price-list import and export
)
# Typer apps added to the CLI: (module with `app`, command name; None adds its commands at the top level).
CLI_MODULES: tuple[tuple[str, str | None], ...] = (
    ("partnerdesk.policies.cli", "policies"), ("partnerdesk.catalog.cli", "catalog"),
    ("partnerdesk.jobs.cli", "jobs"),
    ("partnerdesk.jobs.worker_cli", "worker"),
    ("partnerdesk.webhooks.cli", "webhooks"),
    ("partnerdesk.billing.cli", "billing"),
    ("partnerdesk.software.cli", "files"),
    ("partnerdesk.software.keys_cli", "keys"),
    ("partnerdesk.hybrid.cli", "ahb"),
    ("partnerdesk.ops.cli", None),  # `partnerdesk backup PATH`, `partnerdesk restore PATH`
)


# Functions `load(db, now, log)` that add a domain's demo data idempotently, in this order.
DEMO_LOADERS: tuple[str, ...] = (
    "partnerdesk.catalog.demo.load",
    "partnerdesk.reservations.demo.load",
    "partnerdesk.hybrid.demo.load",
)
# Demo loaders that store files or keys, called as `load(desk, now, log)` after the others: they open
# their own transactions, as storing bytes must not hold one.
DESK_DEMO_LOADERS: tuple[str, ...] = (
    "partnerdesk.software.demo.load",
)

# Background job handlers: (job kind, "module.function" called as `handler(desk, job)`).
JOB_HANDLERS: tuple[tuple[str, str], ...] = (
    ("webhook.deliver", "partnerdesk.webhooks.delivery.deliver"),
    ("support.email", "partnerdesk.support.mail.send_status_email"),
    ("billing.subscription_period", "partnerdesk.billing.schedule.run_period_job"),
    ("billing.close_invoice", "partnerdesk.billing.closing.run_close_job"),
)


def api_routers() -> list:
    return [importlib.import_module(name).router for name in API_MODULES]


def cli_apps() -> list[tuple[object, str | None]]:
    return [(importlib.import_module(module).app, name) for module, name in CLI_MODULES]


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def job_handlers() -> dict:
    return {kind: _resolve(dotted) for kind, dotted in JOB_HANDLERS}


def demo_loaders() -> list:
    return [_resolve(dotted) for dotted in DEMO_LOADERS]


def desk_demo_loaders() -> list:
    return [_resolve(dotted) for dotted in DESK_DEMO_LOADERS]
