"""What domains add to the portal: navigation entries, tabs on object pages, template folders.

A domain's `web.py` registers its entries when it is imported; `install_portal` imports every
domain's `web.py`, so registering is all a domain does to appear in the portal.
"""

from __future__ import annotations

import string
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from partnerdesk.accounts.models import Role


@dataclass(frozen=True)
class LinkEntry:
    """A registered link: an English label (msgid), a path that may hold `{placeholders}`, who sees it."""

    label: str
    path_template: str
    roles: frozenset[Role]
    order: int


@dataclass(frozen=True)
class VisibleLink:
    label: str
    url: str
    current: bool


class LinkRegistry:
    """An ordered set of links shown by role: the main navigation, or the tabs of an object page."""

    def __init__(self, placeholders: Iterable[str] = ()) -> None:
        self.placeholders = frozenset(placeholders)
        self._entries: dict[str, LinkEntry] = {}
        self._lock = threading.Lock()

    def register(self, label_msgid: str, path_template: str, roles: Iterable[Role], *, order: int = 100) -> None:
        """Adds a link (or replaces the one with the same path) shown to `roles`, sorted by `order`."""
        admitted = frozenset(Role(role) for role in roles)
        if not admitted:
            raise ValueError(f"{path_template}: a link needs at least one role")
        if not path_template.startswith("/"):
            raise ValueError(f"{path_template}: a link is a local path starting with /")
        used = {name for _, name, _, _ in string.Formatter().parse(path_template) if name}
        if not used <= self.placeholders:
            raise ValueError(f"{path_template}: only {sorted(self.placeholders)} may be filled in here")
        with self._lock:
            self._entries[path_template] = LinkEntry(label_msgid, path_template, admitted, order)

    def entries(self) -> list[LinkEntry]:
        return sorted(self._entries.values(), key=lambda entry: (entry.order, entry.path_template))

    def visible(self, role: Role, current_path: str, **values: str) -> list[VisibleLink]:
        """The links `role` may follow, with the one `current_path` is under marked as current."""
        filled = {key: quote(str(value), safe="") for key, value in values.items()}
        links = [(entry.label, entry.path_template.format(**filled)) for entry in self.entries()
                 if role in entry.roles]
        # The longest matching link is the current one: /customers/1/orders is in "Orders", not "Details".
        matching = [url for _, url in links if current_path == url or current_path.startswith(url.rstrip("/") + "/")]
        current = max(matching, key=len, default=None)
        return [VisibleLink(label, url, url == current) for label, url in links]


navigation = LinkRegistry()


def register_nav(label_msgid: str, path: str, roles: Iterable[Role], *, order: int = 100) -> None:
    """Adds an entry to the portal's main navigation, shown to `roles` only.

    `label_msgid` is the English label marked with `N_()` so that pybabel extracts it.
    """
    navigation.register(label_msgid, path, roles, order=order)


# Template folders by prefix: `register_templates("orders", folder)` serves "orders/list.html".
_template_folders: dict[str, Path] = {}


def register_templates(prefix: str, directory: str | Path) -> None:
    if not prefix or "/" in prefix:
        raise ValueError(f"template prefix {prefix!r} must be one folder name, such as the domain's")
    path = Path(directory).resolve()
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    existing = _template_folders.get(prefix)
    if existing is not None and existing != path:
        raise ValueError(f"template prefix {prefix!r} is already used by {existing}")
    _template_folders[prefix] = path


def template_folders() -> dict[str, Path]:
    """The live mapping the template loader reads, so folders registered later are found too."""
    return _template_folders


# Template filters a domain adds, by name: `make(language)` gives the filter for pages in that language.
_template_filters: dict[str, Callable[[str], Callable[..., Any]]] = {}


def register_filter(name: str, make: Callable[[str], Callable[..., Any]]) -> None:
    """Adds a template filter to every page, such as catalog's `price_terms`; registered when the
    domain's `web.py` is imported, before any page is rendered."""
    existing = _template_filters.get(name)
    if existing is not None and existing is not make:
        raise ValueError(f"template filter {name!r} is already registered")
    _template_filters[name] = make


def template_filters() -> dict[str, Callable[[str], Callable[..., Any]]]:
    return _template_filters
