"""Rule predict: user FASTA -> profiles (as for training) -> predictions of one model."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

import torch  # noqa: E402

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.predict import predict_fasta  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
out_dir = Path(smk.output.predictions).parent
for name, given in (("ss2", smk.output.ss2), ("svg", smk.output.svg)):
    if Path(given) != out_dir / name:
        raise ValueError(f"output {name} must be {out_dir / name}, got {given}")
torch.set_num_threads(smk.threads)
summary = predict_fasta(
    fasta=Path(smk.input.fasta),
    model_path=Path(smk.input.model),
    database_prefix=Path(smk.input.database),
    search_params=dict(smk.params.settings),
    out_dir=out_dir,
    threads=smk.threads,
    device="cpu",
    backend=smk.params.backend,
    cache_dir=Path(smk.config["profiles"]["cache_dir"]),
    warn=log.warning,
)
log.info(
    "%s: %d proteins, %d residues, %d without hits, %s s",
    smk.wildcards.model,
    summary["n_proteins"],
    summary["n_residues"],
    summary["n_no_hits"],
    summary["seconds"],
)
