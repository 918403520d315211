"""Rule evaluate: predictions and metrics of one model on one test set."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

import torch  # noqa: E402

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.evaluation.evaluate import evaluate_model  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
metrics = evaluate_model(
    model_path=Path(smk.input.model),
    encoded_path=Path(smk.input.encoded),
    out_dir=Path(smk.output.metrics).parent,
    mask=smk.params.mask,
    device="cpu",
)
if metrics.get("task") == "per_protein":
    log.info(
        "%s on %s: accuracy %.4f MCC %.4f (%d proteins)",
        smk.wildcards.model,
        smk.wildcards.testset,
        metrics["accuracy"],
        metrics["mcc"],
        metrics["n_proteins"],
    )
else:
    log.info(
        "%s on %s: Q8 %.4f Q3 %.4f",
        smk.wildcards.model,
        smk.wildcards.testset,
        metrics["q8"],
        metrics["q3"],
    )
