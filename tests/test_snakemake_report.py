"""``snakemake --report report.zip`` on the finished tiny run: the archive holds the report page,
every figure and table the rules register, each with a caption (report/*.rst) and filed under its
experiment, and the workflow description matches the configured run."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.tiny_workflow import run_tiny_workflow

pytestmark = pytest.mark.integration

#: Experiments of tests/data/tiny_config.yaml (over config/config.yaml) -> their test sets.
EXPERIMENTS = {
    "secondary_structure": ["cb513", "ts115", "casp12", "cb513_dcrnn"],
    "localization": ["deeploc2_holdout", "deeploc1_test"],
}
OVERVIEW = ["results/report/index.html", "results/report/accuracy.tsv"]


def _js_value(html: str, name: str) -> object:
    """The JSON literal assigned by ``var {name} = ...;`` in the report page."""
    marker = f"var {name} = "
    start = html.index(marker + ('"' if name == "workflow_desc" else "{")) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(html[start:])
    return value


@pytest.fixture(scope="module")
def report(tiny_run: Path, mirror_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The archive's member names and the page's categories, results and description."""
    archive = tmp_path_factory.mktemp("snakemake_report") / "report.zip"
    result = run_tiny_workflow(tiny_run, mirror_server, "--cores", "1", "--report", str(archive))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(ERROR/" not in result.stderr and "(WARNING/" not in result.stderr, result.stderr
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        html = bundle.read("report/report.html").decode()
    return {
        "names": names,
        "categories": _js_value(html, "categories"),
        "results": _js_value(html, "results"),
        "description": _js_value(html, "workflow_desc"),
    }


def _registered(tiny_run: Path) -> list[str]:
    """Every output the rules register for the report, as paths in the run directory."""
    figures = sorted(p.name for p in (tiny_run / "results" / "report" / "figures").glob("*.png"))
    histories = [
        f"results/models/{experiment}/{model}/history.tsv"
        for experiment, models in {
            "secondary_structure": ["bigru", "cnn_bigru"],
            "localization": ["deeploc", "bilstm_last"],
        }.items()
        for model in models
    ]
    return [*OVERVIEW, *histories, *(f"results/report/figures/{name}" for name in figures)]


def test_archive_holds_the_page_and_every_registered_output(tiny_run: Path, report: dict):
    registered = _registered(tiny_run)
    assert len([p for p in registered if p.endswith(".png")]) >= 20
    assert set(registered) <= set(report["results"])
    members = {Path(name).name for name in report["names"]}
    assert {Path(path).name for path in registered} <= members
    assert "report/report.html" in report["names"]


def test_every_output_has_a_caption(report: dict):
    for path, entry in report["results"].items():
        caption = entry["caption"]
        assert len(caption) > 80, path
        assert "system-message" not in caption, (path, caption)
    # figure captions name their own test set; the table caption names its model
    confusion = report["results"]["results/report/figures/confusion_ts115.png"]["caption"]
    assert "ts115" in confusion and "confusion" in confusion.lower()
    history = report["results"]["results/models/localization/deeploc/history.tsv"]["caption"]
    assert "deeploc" in history and "localization" in history


def test_every_figure_and_table_is_filed_under_its_experiment(report: dict):
    categories = report["categories"]
    assert set(categories) == {"Overview", *EXPERIMENTS}
    assert sorted(p for sub in categories["Overview"].values() for p in sub) == sorted(OVERVIEW)
    filed = {
        path: (category, subcategory)
        for category, subcategories in categories.items()
        for subcategory, paths in subcategories.items()
        for path in paths
    }
    for experiment, test_sets in EXPERIMENTS.items():
        for path, (category, subcategory) in filed.items():
            name = Path(path).stem
            if any(name.endswith(f"_{t}") for t in test_sets) or f"/{experiment}/" in path:
                assert category == experiment, path
                assert subcategory != "Other", path
    assert filed["results/report/figures/learning_curves.png"][0] == "secondary_structure"
    assert filed["results/report/figures/learning_curves_per_protein.png"][0] == "localization"
    assert filed["results/report/figures/calibration_cb513.png"][1] == "Calibration"
    labels = report["results"]["results/report/figures/protein_f1_deeploc1_test.png"]["labels"]
    assert labels["test set"] == "deeploc1_test"


def test_workflow_description_is_the_configured_run(report: dict):
    text = report["description"]
    assert "system-message" not in text
    for experiment, test_sets in EXPERIMENTS.items():
        assert f"<strong>{experiment}</strong>" in text
        assert ", ".join(test_sets) in text
    # profile backend and database, training preset (tiny config), models of the experiment
    assert '<tt class="docutils literal">mmseqs2</tt>' in text
    assert text.count('<tt class="docutils literal">tiny</tt>') == 2
    assert "bigru, cnn_bigru" in text and "deeploc, bilstm_last" in text
