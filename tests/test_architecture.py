"""Import directions of the library (docs/architecture.md, "Import rules"), checked with ``ast``.

The checker walks every module of a package tree, resolves its imports (absolute and relative,
inside functions too, and the ``__init__`` of every package on the way), and follows them
transitively, so a forbidden dependency is caught however many modules it passes through. The
last tests build a synthetic package with one forbidden import and show that the checker fails.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "protrnn"

#: Modules in data/formats/ that are shared tables or helpers, not parsers of one format.
FORMAT_HELPERS = {"options", "pdb_ids"}
#: The one allowed use of an entry point: the CLI runs predictions.
ENTRY_POINT_IMPORTS = {("protrnn.cli", "protrnn.predict")}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file for every module of ``package`` under ``root``."""
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def _raw_imports(path: Path, name: str) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _with_parents(name: str, modules: dict[str, Path]) -> list[str]:
    """``name`` and every package above it that exists (importing runs their __init__)."""
    parts = name.split(".")
    found = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return [m for m in found if m in modules]


def direct_imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the names it imports: library modules (with their packages) and top-level
    third-party names (``torch``, ``pandas``)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for target in _raw_imports(path, name):
            if target.split(".")[0] == PACKAGE:
                found.update(_with_parents(target, modules))
            elif target:
                found.add(target.split(".")[0])
        found.discard(name)
        graph[name] = found
    return graph


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything ``start`` imports, transitively (third-party names are leaves)."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(graph.get(name, ()))
    return seen


def _in(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _format_module(name: str) -> bool:
    parts = name.split(".")
    return (
        _in(name, "protrnn.data.formats")
        and name != "protrnn.data.formats"
        and parts[-1] not in FORMAT_HELPERS
    )


def _backend(name: str) -> bool:
    return _in(name, "protrnn.profiles.backends") and name != "protrnn.profiles.backends"


def _direct_rules(name: str, targets: set[str]) -> Iterator[str]:
    """Rules on what one module imports itself."""
    lib = {t for t in targets if _in(t, PACKAGE) and t != PACKAGE}
    if _in(name, "protrnn.core"):
        yield from (f"core imports {t}" for t in lib if not _in(t, "protrnn.core"))
    if name == "protrnn.data.table":
        yield from (f"the table imports format {t}" for t in lib if _format_module(t))
    if _format_module(name):
        yield from (f"format imports format {t}" for t in lib if _format_module(t))
    if _backend(name):
        yield from (f"backend imports backend {t}" for t in lib if _backend(t))
    for entry in ("protrnn.report", "protrnn.predict", "protrnn.cli", "protrnn.release"):
        if _in(name, entry) or (name, entry) in ENTRY_POINT_IMPORTS:
            continue
        yield from (f"imports entry point {t}" for t in lib if _in(t, entry))


#: Rules on everything a module pulls in, transitively: (module prefix, forbidden prefixes).
TRANSITIVE_RULES = [
    ("protrnn.core", ("torch", "pandas")),
    ("protrnn.config", ("torch", "pandas")),
    ("protrnn.paths", ("torch", "pandas", "numpy")),
    (
        "protrnn.profiles",
        ("protrnn.data", "protrnn.model", "protrnn.report", "protrnn.evaluation", "torch"),
    ),
    ("protrnn.evaluation", ("protrnn.model.train",)),
    ("protrnn.report", ("torch", "protrnn.model", "protrnn.profiles")),
]


def violations(root: Path, package: str = PACKAGE) -> list[str]:
    """Every broken import rule in the tree under ``root``, one line each."""
    modules = discover(root, package)
    graph = direct_imports(modules)
    found = []
    for name in modules:
        found += [f"{name}: {why}" for why in _direct_rules(name, graph[name])]
        pulled = closure(graph, name)
        for prefix, banned in TRANSITIVE_RULES:
            if not _in(name, prefix):
                continue
            for target in sorted(t for t in pulled if any(_in(t, b) for b in banned)):
                found.append(f"{name}: imports {target} (directly or through another module)")
    return sorted(found)


def rule_file_violations(rules_dir: Path) -> list[str]:
    """Rule files may import only protrnn.config and protrnn.paths."""
    allowed = ("protrnn.config", "protrnn.paths")
    pattern = re.compile(r"^\s*(?:from\s+(protrnn[\w.]*)\s+import|import\s+(protrnn[\w.]*))", re.M)
    found = []
    for path in sorted(rules_dir.glob("*.smk")):
        for match in pattern.finditer(path.read_text()):
            target = match.group(1) or match.group(2)
            if not any(_in(target, a) for a in allowed):
                found.append(f"{path.name}: imports {target}")
    return found


# -- the real tree ---------------------------------------------------------------------------


def test_library_import_directions() -> None:
    assert violations(ROOT) == []


def test_rule_files_import_only_config_and_paths() -> None:
    assert rule_file_violations(ROOT / "rules") == []


def test_checker_sees_the_whole_library() -> None:
    modules = discover(ROOT)
    assert "protrnn.core.alphabet" in modules and "protrnn.report" in modules
    graph = direct_imports(modules)
    assert "protrnn.core.alphabet" in closure(graph, "protrnn.encode")


# -- the checker itself, on synthetic trees ----------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [tmp_path / PACKAGE, *(tmp_path / PACKAGE).rglob("*")]:
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    return tmp_path


CLEAN = {
    "core/alphabet.py": "import numpy\n",
    "config/checks.py": "from protrnn.core import alphabet\n",
    "report/build.py": "from .tables import x\n",
    "report/tables.py": "import pandas\nx = 1\n",
    "model/train.py": "import torch\n",
    "model/inference.py": "import torch\n",
    "evaluation/evaluate.py": "from protrnn.model import inference\n",
}


def test_synthetic_clean_tree_passes(tmp_path: Path) -> None:
    assert violations(_tree(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        ("core/fileio.py", "from protrnn.config import checks\n", "core imports"),
        ("config/schema.py", "import torch\n", "protrnn.config.schema: imports torch"),
        ("config/folds.py", "from protrnn.model.train import x\n", "imports torch"),
        ("evaluation/sov.py", "def f():\n    import protrnn.model.train\n", "model.train"),
        ("report/figures.py", "from ..model import inference\n", "imports protrnn.model"),
        ("model/zoo.py", "from protrnn.report import build\n", "imports entry point"),
        ("model/zoo.py", "from protrnn.release import make\n", "imports entry point"),
        ("data/formats/text.py", "from protrnn.data.formats import dcrnn\n", "format imports"),
        ("profiles/backends/a.py", "from protrnn.profiles.backends import b\n", "backend"),
    ],
)
def test_synthetic_forbidden_import_fails(
    tmp_path: Path, rel: str, text: str, expected: str
) -> None:
    files = dict(CLEAN)
    files.update({"data/formats/dcrnn.py": "", "profiles/backends/b.py": "", rel: text})
    files["release/make.py"] = ""
    found = violations(_tree(tmp_path, files))
    assert any(expected in line for line in found), found


def test_synthetic_rule_file_import_fails(tmp_path: Path) -> None:
    (tmp_path / "ok.smk").write_text("from protrnn.config import validate_config\n")
    (tmp_path / "bad.smk").write_text("from protrnn.data.formats.pdb_chains import x\n")
    assert rule_file_violations(tmp_path) == ["bad.smk: imports protrnn.data.formats.pdb_chains"]
