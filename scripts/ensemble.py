"""Rule ensemble: choose an experiment's best models by validation score and save the ensemble."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.model.ensemble import write_ensemble  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
candidates = {
    name: Path(path) for name, path in zip(smk.params.models, smk.input.models, strict=True)
}
description = write_ensemble(Path(smk.output.model), candidates, int(smk.params.size))
scores = ", ".join(f"{n} {s:.4f}" for n, s in description["candidate_scores"].items())
log.info("candidates by %s: %s", description["selection"], scores)
log.info("ensemble of %s", ", ".join(description["members"]))
