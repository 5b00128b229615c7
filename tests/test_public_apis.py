"""The code uses only the public names of other packages: no underscore name imported or reached into.

A private name of FastAPI, Starlette, SQLAlchemy or psycopg can change in any minor release, and one
such dependency once let a single refused request break every purchase. Within Partner Desk, a
module's underscore names are its own too: another module that needs one should ask for a public one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import partnerdesk

SOURCE = Path(partnerdesk.__file__).parent


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_of(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    module = _module_of(path)
    found: list[str] = []
    imported_modules: set[str] = set()  # local names bound to modules (import x, import x as y, from p import mod)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported_modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            found += [f"import {alias.name}" for alias in node.names if any(map(_is_private, alias.name.split(".")))]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            source = node.module or ""
            if node.level:  # a relative import stays inside the importing package
                continue
            found += [f"from {source} import {alias.name}" for alias in node.names
                      if _is_private(alias.name) or any(map(_is_private, source.split(".")))]
            imported_modules.update(alias.asname or alias.name for alias in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _is_private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules):
            found.append(f"{node.value.id}.{node.attr}")
    return [f"{module}: {use}" for use in found]


def test_no_module_uses_another_packages_underscore_names():
    uses = [use for path in sorted(SOURCE.rglob("*.py")) for use in _private_uses(path)]
    assert uses == []


def test_the_check_sees_each_kind_of_private_use(tmp_path, monkeypatch):
    """The check above cannot pass by seeing nothing: each way of reaching a private name is caught."""
    package = tmp_path / "pkg"
    package.mkdir()
    monkeypatch.setattr(f"{__name__}.SOURCE", package)
    sample = package / "sample.py"
    sample.write_text(
        "from fastapi import routing\n"
        "from psycopg.errors import _error_from_result\n"
        "from sqlalchemy.engine import _row_cy\n"
        "value = routing._effective_route_context_var.get()\n"
        "ok = routing.APIRoute.__name__\n"
    )
    assert _private_uses(sample) == [
        "pkg.sample: from psycopg.errors import _error_from_result",
        "pkg.sample: from sqlalchemy.engine import _row_cy",
        "pkg.sample: routing._effective_route_context_var",
    ]
