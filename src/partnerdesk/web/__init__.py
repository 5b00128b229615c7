"""The web portal: server-rendered pages in English and French that work without JavaScript.

A domain with pages has a `web.py` that builds its `router = portal_router()`, declares each
page's roles with `allow_page(...)`, and registers what it adds to the shell (see CONTRIBUTING.md,
"Portal pages"):

    register_nav(N_("Orders"), "/orders", [Role.admin_agent, ...], order=20)
    register_templates("orders", Path(__file__).parent / "templates")
    register_translations(Path(__file__).parent / "locale")
    register_customer_tab(...)  # from partnerdesk.customers.web

`install_portal` finds those modules itself: `partnerdesk.customers.web` and the `web` module of
every domain listed in `partnerdesk.domains`.
"""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from partnerdesk.web.errors import FormExpired, PageError, PageForbidden, PageNotFound
from partnerdesk.web.forms import FormErrors, FormField, explain, text_value
from partnerdesk.web.handlers import install_page_error_handlers
from partnerdesk.web.i18n import (
    LANGUAGES,
    N_,
    format_date,
    format_datetime,
    format_money,
    format_number,
    register_translations,
)
from partnerdesk.web.listing import ListPage, list_page
from partnerdesk.web.pages import (
    PageContext,
    PortalRoute,
    allow_page,
    page_role_matrix,
    portal_router,
    public_page,
)
from partnerdesk.web.registry import LinkRegistry, register_filter, register_nav, register_templates
from partnerdesk.web.rendering import STATIC_DIR, STATIC_PATH, redirect, render
from partnerdesk.web.session import install_sessions, read_form

__all__ = [
    "LANGUAGES",
    "N_",
    "FormErrors",
    "FormExpired",
    "FormField",
    "LinkRegistry",
    "ListPage",
    "PageContext",
    "PageError",
    "PageForbidden",
    "PageNotFound",
    "PortalRoute",
    "allow_page",
    "explain",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "install_portal",
    "list_page",
    "page_role_matrix",
    "portal_router",
    "public_page",
    "read_form",
    "redirect",
    "register_filter",
    "register_nav",
    "register_templates",
    "register_translations",
    "render",
    "text_value",
]

# Domains of the foundation with pages; later domains are found through `partnerdesk.domains`.
FOUNDATION_PAGE_MODULES = ("partnerdesk.customers.web",)


def page_modules() -> list[str]:
    """`<domain>.web` for every registered domain that has one, foundation first."""
    from partnerdesk.domains import API_MODULES, MODEL_MODULES

    modules = list(FOUNDATION_PAGE_MODULES)
    for dotted in (*MODEL_MODULES, *API_MODULES):
        candidate = dotted.rpartition(".")[0] + ".web"
        if candidate not in modules and importlib.util.find_spec(candidate) is not None:
            modules.append(candidate)
    return modules


def install_portal(app: FastAPI) -> None:
    """Mounts the portal on the app: sessions, static files, the shell's pages, every domain's pages."""
    from partnerdesk.web.preferences import router as preferences_router
    from partnerdesk.web.routes import router as shell_router

    install_sessions(app, app.state.desk)
    install_page_error_handlers(app)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    routers = [shell_router, preferences_router, *(importlib.import_module(module).router for module in page_modules())]
    for router in routers:
        app.include_router(router)
    # Kept so the page role matrix can be read back from the routes' declarations.
    app.state.portal_routers = routers
