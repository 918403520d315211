"""Rule report: the comparison page results/report/index.html, TSV tables and figures."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.report.build import build_report  # noqa: E402
from protrnn.report.context import ReportInputs  # noqa: E402
from protrnn.report.load import history_inputs  # noqa: E402
from protrnn.report.provenance import run_provenance  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
repo = Path(smk.scriptdir).parent
provenance = run_provenance(
    config=dict(smk.params.config),
    tables=[Path(p) for p in smk.input.tables],
    shard_jsons=[Path(p) for p in smk.input.profiles],
    database_dir=Path(smk.input.database),
    repo=repo,
    download_dir=Path("resources/downloads"),
)
histories, epoch_limits = history_inputs(
    smk.input.histories, dict(smk.params.experiments), dict(smk.params.config)
)
inputs = ReportInputs(
    eval_files=[Path(p) for p in smk.input.metrics],
    history_files=histories,
    epoch_limits=epoch_limits,
    provenance=provenance,
    published=list(smk.params.published),
    out_dir=Path(smk.output.html).parent,
    prediction_files=[Path(p) for p in smk.input.predictions],
    dataset_tables=[Path(p) for p in smk.input.tables],
    benchmark_files=[Path(p) for p in smk.params.benchmarks if Path(p).exists()],
    redundancy_files=[Path(p) for p in smk.input.redundancy],
    redundancy_settings=dict(smk.params.redundancy),
    backend_benchmark=Path(smk.input.backends) if smk.input.backends else None,
    studies=[Path(d) for d in smk.params.studies],
    parse_stats={
        Path(p).name.removesuffix(".json"): json.loads(Path(p).read_text())
        for p in smk.input.parse_stats
    },
)
out = build_report(inputs)
log.info("report written: %s", out)
