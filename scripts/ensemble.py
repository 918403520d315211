"""Rule ensemble: choose an experiment's models on the training dataset's validation proteins
and save their ensemble."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

import torch  # noqa: E402

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.encode import load_encoded  # noqa: E402
from protrnn.model.ensemble_select import make_ensemble, validation_proteins  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
torch.set_num_threads(smk.threads)
candidates = {
    name: Path(path) for name, path in zip(smk.params.models, smk.input.models, strict=True)
}
valid_set = validation_proteins(load_encoded(smk.input.encoded))
if valid_set is None:
    log.warning(
        "%s has no 'valid' proteins: members ranked by their saved scores", smk.input.encoded
    )
description = make_ensemble(Path(smk.output.model), candidates, int(smk.params.size), valid_set)
scores = ", ".join(f"{n} {s:.4f}" for n, s in description["candidate_scores"].items())
log.info("candidates by %s: %s", description["selection"], scores)
for k, score in description.get("ensemble_scores", {}).items():
    log.info("ensemble of the best %s: %.4f", k, score)
log.info("ensemble of %s", ", ".join(description["members"]))
