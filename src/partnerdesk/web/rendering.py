"""Rendering portal pages: one Jinja environment per language, the layout's context, safe headers."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
)
from markupsafe import Markup

from partnerdesk.accounts.models import Role
from partnerdesk.web import i18n
from partnerdesk.web.i18n import N_
from partnerdesk.web.registry import navigation, template_filters, template_folders
from partnerdesk.web.session import CSRF_FIELD, csrf_token, language_cookie, take_flashes

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"

ROLE_LABELS: dict[Role, str] = {
    Role.operator: N_("Operator"),
    Role.admin_agent: N_("Admin agent"),
    Role.sales_agent: N_("Sales agent"),
    Role.helpdesk_agent: N_("Helpdesk agent"),
    Role.billing_admin: N_("Billing admin"),
}

# Pages load only this site's stylesheet (and scripts, should a page ever add progressive
# enhancement); nothing inline, nothing from elsewhere, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Pages show partner data: a shared browser's back button must not bring them back after sign-out.
    "Cache-Control": "no-store",
}


class _DomainTemplateLoader(BaseLoader):
    """Finds "customers/list.html" in the folder registered for "customers", read at each lookup."""

    def get_source(self, environment: Environment, template: str):
        prefix, _, name = template.partition("/")
        folder = template_folders().get(prefix)
        if folder is None or not name:
            raise TemplateNotFound(template)
        return FileSystemLoader(folder).get_source(environment, name)

    def list_templates(self) -> list[str]:
        return sorted(f"{prefix}/{name}" for prefix, folder in template_folders().items()
                      for name in FileSystemLoader(folder).list_templates())


_loader = ChoiceLoader([FileSystemLoader(TEMPLATES_DIR), _DomainTemplateLoader()])


@lru_cache(maxsize=1)
def _static_versions() -> dict[str, str]:
    return {path.relative_to(STATIC_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in STATIC_DIR.rglob("*") if path.is_file()}


def static_url(name: str) -> str:
    """The URL of a file in web/static, versioned by its content so browsers never keep a stale copy."""
    version = _static_versions().get(name)
    if version is None:
        raise ValueError(f"no static file {name!r}")
    return f"{STATIC_PATH}/{name}?v={version}"


def environment_for(language: str) -> Environment:
    return _environment(language, i18n.catalog_dirs())


@lru_cache(maxsize=16)
def _environment(language: str, _catalogs: tuple[Path, ...]) -> Environment:
    environment = Environment(
        loader=_loader,
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(i18n.translations_for(language), newstyle=True)
    environment.globals.update(static_url=static_url, languages=i18n.LANGUAGES, role_labels=ROLE_LABELS)
    environment.filters.update(
        money=lambda amount, currency: i18n.format_money(amount, currency, language),
        number=lambda value: i18n.format_number(value, language),
        date=lambda value, format="medium": i18n.format_date(value, language, format),
        datetime=pass_context(lambda context, value, format="medium": i18n.time_element(
            value, language, context.get("time_zone"), format)),
        country=lambda code: i18n.country_label(code, language),
        culture=lambda code: i18n.culture_label(code, language),
        language_name=lambda code: i18n.language_label(code, language),
    )
    environment.filters.update({name: make(language) for name, make in template_filters().items()})
    return environment


def current_viewer(request: Request):
    """The signed-in agent of this request (set by the page guard), or None."""
    return getattr(request.state, "viewer", None)


def request_language(request: Request) -> str:
    viewer = current_viewer(request)
    return i18n.choose_language(
        preferred=viewer.principal.preferred_language if viewer else None,
        cookie=language_cookie(request),
        accept_language=request.headers.get("accept-language"),
    )


# The reader's time zone: the one chosen on the time zone page, else the one the page's script read from the
# browser; both are cookies, as the agent table has no column for it (see docs/portal-carts.md).
TIME_ZONE_COOKIE = "partnerdesk_time_zone"
BROWSER_TIME_ZONE_COOKIE = "partnerdesk_browser_time_zone"
TIME_ZONE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60


def chosen_time_zone(request: Request) -> str | None:
    """The zone the reader chose: kept on the signed-in agent, else in this browser's cookie."""
    viewer = current_viewer(request)
    return (getattr(viewer, "time_zone", None) if viewer else None) or request.cookies.get(TIME_ZONE_COOKIE)


def request_time_zone(request: Request) -> str:
    viewer = current_viewer(request)
    return i18n.choose_time_zone(
        preferred=chosen_time_zone(request),
        browser=request.cookies.get(BROWSER_TIME_ZONE_COOKIE),
        country=getattr(viewer, "partner_country", None) if viewer else None,
    )


def gettext_for(request: Request):
    return i18n.translations_for(request_language(request)).gettext


def here(request: Request) -> str:
    """This page's local address, to come back to after switching language or signing in."""
    if request.method == "GET" and request.url.query:
        return f"{request.url.path}?{request.url.query}"
    return request.url.path


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    """Renders a portal page in the reader's language, inside the layout when the template extends it.

    The template gets `context` plus what the layout needs: `viewer`, `nav`, `locale`, `flashes`,
    `here`, and `csrf_input` (the hidden CSRF field: put `{{ csrf_input }}` in every POST form).
    """
    language = request_language(request)
    viewer = current_viewer(request)
    token = csrf_token(request)
    values: dict[str, Any] = {
        "request": request,
        "locale": language,
        "viewer": viewer,
        "nav": navigation.visible(viewer.principal.role, request.url.path) if viewer else [],
        "csrf_input": Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token),
        "flashes": take_flashes(request),
        "here": here(request),
        "time_zone": request_time_zone(request),
        "time_zone_chosen": i18n.supported_time_zone(chosen_time_zone(request)) is not None,
    }
    values.update(context or {})
    html = environment_for(language).get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a form post the browser follows with a GET, so a reload never posts twice."""
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
