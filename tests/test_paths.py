"""protrnn.paths: every output path is written once, and the rules use it."""

import ast
import re
from pathlib import Path

from protrnn import paths

ROOT = Path(__file__).resolve().parent.parent
RULES = sorted((ROOT / "rules").glob("*.smk"))


def test_rule_files_write_no_literal_paths():
    """Outputs, logs and benchmarks come from protrnn.paths, not from string literals."""
    literal = re.compile(r"""["'](?:results|resources|logs|benchmarks)/""")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in [*RULES, ROOT / "Snakefile"]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line)
    ]
    assert found == []


def test_every_rule_has_a_log_and_benchmark_stem():
    rules = {m for p in RULES for m in re.findall(r"^rule (\w+):", p.read_text(), re.M)}
    assert rules - {"all"} == set(paths.JOBS)
    for rule in rules - {"all"}:
        text = next(p.read_text() for p in RULES if f"rule {rule}:" in p.read_text())
        block = text.split(f"rule {rule}:", 1)[1].split("\nrule ", 1)[0]
        assert f'paths.log("{rule}")' in block and f'paths.benchmark("{rule}")' in block, rule


def test_log_and_benchmark_share_the_stem():
    assert paths.log("train") == "logs/train/{experiment}/{model}.log"
    assert paths.benchmark("train") == "benchmarks/train/{experiment}/{model}.tsv"
    assert paths.benchmark("report") == "benchmarks/report.tsv"
    job = {"experiment": "e", "model": "m", "testset": "t"}
    assert paths.fill(paths.benchmark("evaluate"), **job) == "benchmarks/evaluate/e/m/t.tsv"
    assert paths.fill_all(paths.EVAL_PREDICTIONS, [job]) == ["results/eval/e/m/t/predictions.npz"]


def test_paths_imports_nothing():
    tree = ast.parse((ROOT / "protrnn" / "paths.py").read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert set(imported) <= {"__future__", "collections.abc"}
