"""The digest of the code a rule script runs: the script and every protrnn module it imports,
transitively. The rules give it as a ``params`` value, so that Snakemake reruns a job when the
library code behind it changes (its own ``code`` trigger sees only the script).

Modules are compared by their syntax tree without docstrings: comments, docstrings and layout do
not count, any change to what the code does does. The modules are found by reading the import
statements (anywhere in a file, functions included); protrnn imports no module by name at run time.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

PACKAGE = "protrnn"


def code_digest(entry: Path, root: Path | None = None) -> str:
    """sha256 over ``entry`` (a rule script, or a module of the package) and the protrnn modules
    it reaches; the package is ``root/protrnn`` (default: beside the script's ``scripts/``)."""
    entry = Path(entry).resolve()
    root = Path(root).resolve() if root is not None else entry.parent.parent
    digest = hashlib.sha256()
    for path in [entry, *code_files(entry, root)]:
        digest.update(f"{path.relative_to(root)}\n{_facts(path, root).normalised}\n".encode())
    return digest.hexdigest()


def module_digest(module: ModuleType) -> str:
    """:func:`code_digest` of an imported protrnn module (e.g. a profile backend)."""
    return code_digest(Path(module.__file__), Path(__file__).resolve().parent.parent.parent)


def code_files(script: Path, root: Path) -> list[Path]:
    """The files of the protrnn modules ``script`` imports, transitively, sorted (not itself)."""
    seen: set[Path] = set()
    start = Path(script).resolve()
    pending = list(_facts(start, root).imports - {start})
    while pending:
        path = pending.pop()
        if path not in seen:
            seen.add(path)
            pending.extend(_facts(path, root).imports - seen)
    return sorted(seen - {start})


class _Facts(NamedTuple):
    imports: frozenset[Path]  # files of the protrnn modules (and parent packages) imported
    normalised: str  # the syntax tree without docstrings and positions, as text


def _facts(path: Path, root: Path) -> _Facts:
    return _read(path, root, path.read_text())


@functools.lru_cache(maxsize=1024)
def _read(path: Path, root: Path, source: str) -> _Facts:
    """:class:`_Facts` of ``path`` holding ``source``: each version of a file is parsed once."""
    tree = ast.parse(source, filename=str(path))
    current = _module_name(path, root)
    found = set()
    for name in _imported_names(tree, current, path.name == "__init__.py"):
        parts = name.split(".")
        for n in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
            module = _module_file(parts[:n], root)
            if module is not None:
                found.add(module)
    return _Facts(frozenset(found), _without_docstrings(tree))


def _imported_names(tree: ast.AST, current: str | None, is_package: bool) -> set[str]:
    """Dotted protrnn names an import statement of ``tree`` may load (``from a import b`` gives
    ``a`` and ``a.b``: b may be a submodule)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, current, is_package)
            if base is not None:
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def _absolute(node: ast.ImportFrom, current: str | None, is_package: bool) -> str | None:
    """The absolute module name of a ``from ... import`` (relative ones resolved)."""
    if node.level == 0:
        return node.module
    if current is None:
        return None
    parts = current.split(".")
    package = parts if is_package else parts[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _module_name(path: Path, root: Path) -> str | None:
    """``protrnn.model.zoo`` for ``root/protrnn/model/zoo.py``; None outside the package."""
    try:
        parts = list(path.relative_to(root / PACKAGE).with_suffix("").parts)
    except ValueError:
        return None
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def _module_file(parts: list[str], root: Path) -> Path | None:
    """The file of module ``parts`` under ``root`` (a module file or a package's __init__)."""
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _without_docstrings(tree: ast.Module) -> str:
    """``tree`` as text without docstrings and positions (the tree is changed in place)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)
