"""Benchmark studies in the report (config ``report.studies``): found on disk, rendered with
their text, table and figures, and the default ones kept equal to docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from protrnn.config import ConfigError, validate_config  # noqa: E402
from protrnn.config.files import read_config_file  # noqa: E402
from protrnn.config.studies import study_dir, study_dirs, study_files  # noqa: E402
from protrnn.report.build import build_report  # noqa: E402
from protrnn.report.context import ReportInputs  # noqa: E402
from protrnn.report.markdown import markdown_html  # noqa: E402
from protrnn.report.studies import load_study  # noqa: E402
from tests.test_bad_inputs_report import fails  # noqa: E402
from tests.test_report import synthetic_metrics  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

STUDY = """Intro line one
continues here with `code`.

# Width study

| arm | CB513 Q8 |
|---|---:|
| **wide** | 63.1 |

![curves](curves.png)
"""


def figure(path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([1, 2], [3, 4])
    fig.savefig(path)
    plt.close(fig)
    return path


def make_study(
    root: Path, text: str = STUDY, figures: tuple[str, ...] = ("b.png", "a.png")
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "study.md").write_text(text)
    for name in figures:
        figure(root / name)
    return root


def test_a_study_has_its_title_text_and_figures_in_name_order(tmp_path: Path) -> None:
    study = load_study(make_study(tmp_path / "width"))
    assert study.title == "Width study"
    assert "# Width study" not in study.markdown and "| **wide** | 63.1 |" in study.markdown
    assert [f.name for f in study.figures] == ["a.png", "b.png"]
    assert study_files(tmp_path / "width")[0].name == "study.md"


def test_a_study_without_its_text_or_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"empty/study\.md"):
        load_study(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"prose/study\.md: no markdown table"):
        load_study(make_study(tmp_path / "prose", "# Only words\n", ()))


def test_study_markdown_renders_paragraphs_code_and_tables() -> None:
    html = markdown_html(STUDY + "\n```bash\npython x.py --a <b>\n```\n- a bullet\n")
    assert "<p>Intro line one continues here with <code>code</code>.</p>" in html
    assert "<td><b>wide</b></td><td>63.1</td>" in html
    assert "<pre><code>python x.py --a &lt;b&gt;</code></pre>" in html
    assert "<p>a bullet</p>" in html and "curves.png" not in html


def test_relative_entries_come_from_the_working_then_the_workflow_directory(
    tmp_path: Path,
) -> None:
    here, workflow = tmp_path / "work", tmp_path / "workflow"
    make_study(here / "mine", figures=())
    make_study(workflow / "docs" / "s", figures=())
    assert study_dir("mine", workflow, here) == Path("mine")
    assert study_dir("docs/s", workflow, here) == workflow / "docs" / "s"
    absolute = str(here / "mine")
    assert study_dir(absolute, workflow, here) == Path(absolute)
    with pytest.raises(ConfigError, match=r"report\.studies: 'nowhere': no study\.md in .*work"):
        study_dirs({"report": {"studies": ["mine", "nowhere"]}}, workflow, here)


def test_the_report_shows_each_study_with_its_figures(tmp_path: Path) -> None:
    study = make_study(tmp_path / "width")
    evaluated = tmp_path / "eval" / "m" / "cb513" / "metrics.json"
    synthetic_metrics(evaluated, "m", "cb513", 0.7, seed=1)
    inputs = ReportInputs([evaluated], {}, {}, [], tmp_path / "report", studies=[study])
    html = build_report(inputs).read_text()
    section = html[html.index('id="studies"') :]
    assert "Benchmark studies" in html and "<h3>Width study</h3>" in section
    assert str(study) in section and "<td><b>wide</b></td>" in section
    assert section.count("data:image/png;base64,") == 2


def test_a_broken_study_leaves_no_report(tmp_path: Path) -> None:
    fails(tmp_path, r"study\.md", FileNotFoundError, studies=[tmp_path / "missing"])


def test_the_default_studies_are_in_the_repository_and_in_docs_benchmarks() -> None:
    """Every table row of a default study is a row of docs/benchmarks.md (one source of numbers)."""
    config = validate_config(read_config_file(REPO / "config" / "config.yaml"))
    dirs = study_dirs(config, REPO, REPO)
    assert [d.name for d in dirs] == ["accuracy_per_minute", "localization", "profile_features"]
    benchmarks = set((REPO / "docs" / "benchmarks.md").read_text().splitlines())
    for directory in dirs:
        study = load_study(REPO / directory)
        rows = [line for line in study.markdown.splitlines() if re.match(r"\| \S", line)]
        assert rows and set(rows) <= benchmarks, directory
        assert study.figures, directory


def test_rule_report_reads_every_study_file(tmp_path: Path) -> None:
    """The studies are inputs of rule report (editing one rebuilds the report) and its param."""
    api = pytest.importorskip("snakemake.api")
    from snakemake.settings.types import ConfigSettings, ResourceSettings

    study = make_study(tmp_path / "width")
    with api.SnakemakeApi() as snakemake:
        workflow = snakemake.workflow(
            snakefile=REPO / "Snakefile",
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(
                configfiles=[REPO / "config" / "config.yaml"],
                config={"report": {"studies": [str(study)], "profile_backends": None}},
            ),
            workdir=tmp_path,
        )
        rule = workflow._workflow.get_rule("report")
        assert [str(p) for p in rule.params.studies] == [str(study)]
        inputs = rule.input.studies
        assert [Path(p).name for p in inputs] == ["study.md", "a.png", "b.png"]


def test_the_default_studies_are_found_from_another_working_directory(tmp_path: Path) -> None:
    api = pytest.importorskip("snakemake.api")
    from snakemake.settings.types import ConfigSettings, ResourceSettings

    with api.SnakemakeApi() as snakemake:
        workflow = snakemake.workflow(
            snakefile=REPO / "Snakefile",
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[REPO / "config" / "config.yaml"]),
            workdir=tmp_path,
        )
        studies = workflow._workflow.get_rule("report").params.studies
        assert studies == [
            str(REPO / "docs" / "studies" / n)
            for n in ("accuracy_per_minute", "localization", "profile_features")
        ]
