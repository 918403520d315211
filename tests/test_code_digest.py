"""The code digest the rules use as a rerun trigger: what it follows and what it ignores."""

from __future__ import annotations

from pathlib import Path

import pytest

from protrnn.core.code_digest import code_digest, code_files

FILES = {
    "protrnn/__init__.py": "",
    "protrnn/model/__init__.py": '"""Models."""\n',
    "protrnn/model/zoo.py": (
        '"""The zoo."""\n\nfrom . import layers\n\n\ndef build():\n'
        '    """Build one."""\n    return layers.WIDTH * 2  # doubled\n'
    ),
    "protrnn/model/layers.py": "WIDTH = 128\n",
    "protrnn/report.py": "TITLE = 'report'\n",
    "scripts/train.py": "def main():\n    from protrnn.model.zoo import build\n\n    build()\n",
}


@pytest.fixture
def workflow(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_follows_imports_in_functions_relative_ones_and_parent_packages(workflow: Path):
    found = [
        p.relative_to(workflow).as_posix()
        for p in code_files(workflow / "scripts/train.py", workflow)
    ]
    assert found == [
        "protrnn/__init__.py",
        "protrnn/model/__init__.py",
        "protrnn/model/layers.py",
        "protrnn/model/zoo.py",
    ]


def test_changes_with_the_code_a_script_reaches_only(workflow: Path):
    script = workflow / "scripts/train.py"
    first = code_digest(script)
    _edit(workflow / "protrnn/report.py", "'report'", "'other'")  # not imported by the script
    assert code_digest(script) == first
    _edit(workflow / "protrnn/model/layers.py", "128", "192")  # imported through a relative import
    assert code_digest(script) != first


def test_docstrings_comments_and_layout_do_not_count(workflow: Path):
    script = workflow / "scripts/train.py"
    first = code_digest(script)
    zoo = workflow / "protrnn/model/zoo.py"
    _edit(zoo, '"""Build one."""', '"""Build one model, documented at length."""')
    _edit(zoo, "# doubled", "# twice the width")
    _edit(zoo, "return layers.WIDTH * 2", "return (layers.WIDTH\n            * 2)")
    _edit(workflow / "protrnn/model/__init__.py", '"""Models."""', '"""All the models."""')
    assert code_digest(script) == first
    _edit(zoo, "* 2)", "* 3)")
    assert code_digest(script) != first
