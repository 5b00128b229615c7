"""The code uses only the public names of other packages: no underscore name imported or reached into.

A private name of FastAPI, Starlette, SQLAlchemy or psycopg can change in any minor release, and one
such dependency once let a single refused request break every purchase. Within Partner Desk, a
module's underscore names are its own too: another module that needs one should ask for a public one.
"""

from __future__ import annotations

import ast
import importlib
import types
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
    found += _private_assignments(tree)
    return [f"{module}: {use}" for use in found]


def _imported_names(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it was imported as (`import httpx` -> httpx, `from a import B` -> a.B)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds `a`; `import a.b as c` binds `c` to a.b
                top = alias.name.split(".")[0]
                names[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    return names


def _foreign_class(expression: ast.expr, imported: dict[str, str]) -> type | None:
    """The class a base-class expression names, when it comes from another package."""
    parts: list[str] = []
    while isinstance(expression, ast.Attribute):
        parts.insert(0, expression.attr)
        expression = expression.value
    if not isinstance(expression, ast.Name) or expression.id not in imported:
        return None
    dotted = [*imported[expression.id].split("."), *parts]
    for split in range(len(dotted), 0, -1):
        try:
            found = importlib.import_module(".".join(dotted[:split]))
        except ImportError:
            continue
        for name in dotted[split:]:
            found = getattr(found, name, None)
        break
    else:
        return None
    if isinstance(found, type) and not found.__module__.startswith("partnerdesk"):
        return found
    return None


def _uses_attribute(cls: type, name: str) -> bool:
    """Whether `cls` or one of its ancestors has `name` or reads or writes it in one of its methods."""
    for ancestor in cls.__mro__[:-1]:  # not `object`
        if name in vars(ancestor):
            return True
        for member in vars(ancestor).values():
            function = getattr(member, "__func__", getattr(member, "fget", member))
            code = getattr(function, "__code__", None)
            if code is not None and name in _names_in(code):
                return True
    return False


def _names_in(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_in(constant)
    return names


def _private_assignments(tree: ast.Module) -> list[str]:
    """Writes to another object's underscore attribute: `client._transport = ...` on anything but `self`,
    and `self._pool = ...` in a subclass of another package's class that has (or uses) `_pool`: both
    replace private state the other package may rename or stop reading in any release."""
    imported = _imported_names(tree)
    found: list[str] = []
    for cls in [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]:
        foreign = [base for base in (_foreign_class(expression, imported) for expression in cls.bases) if base]
        for target in _assigned_attributes(cls):
            if isinstance(target.value, ast.Name) and target.value.id == "self" and \
                    any(_uses_attribute(base, target.attr) for base in foreign):
                found.append(f"{cls.name}: self.{target.attr} = ... (an attribute of {foreign[0].__name__})")
    for target in _assigned_attributes(tree):
        if not (isinstance(target.value, ast.Name) and target.value.id in ("self", "cls")):
            found.append(f"{ast.unparse(target)} = ...")
    return found


def _assigned_attributes(tree: ast.AST) -> list[ast.Attribute]:
    targets: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets += node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets.append(node.target)
    return [part for target in targets for part in ast.walk(target)
            if isinstance(part, ast.Attribute) and _is_private(part.attr)]


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


def test_the_check_sees_private_state_written_into_other_packages_objects(tmp_path, monkeypatch):
    """Replacing another package's private attribute (as a transport once replaced httpx's `_pool`) is
    as fragile as reading it; a class's own underscore attributes stay its own business."""
    package = tmp_path / "pkg"
    package.mkdir()
    monkeypatch.setattr(f"{__name__}.SOURCE", package)
    sample = package / "sample.py"
    sample.write_text(
        "import httpx\n"
        "from httpx import HTTPTransport\n"
        "class Patched(httpx.HTTPTransport):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self._pool = None\n"
        "        self._mine = 1\n"
        "class Imported(HTTPTransport):\n"
        "    def __init__(self):\n"
        "        self._pool = None\n"
        "class Own:\n"
        "    def __init__(self):\n"
        "        self._pool = None\n"
        "client = httpx.Client()\n"
        "client._transport = None\n"
    )
    assert _private_uses(sample) == [
        "pkg.sample: Patched: self._pool = ... (an attribute of HTTPTransport)",
        "pkg.sample: Imported: self._pool = ... (an attribute of HTTPTransport)",
        "pkg.sample: client._transport = ...",
    ]
