"""Rule train: fit one model; a rerun resumes from checkpoints/last.pt after a kill."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.model.train import train  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
preset = dict(smk.params.preset)
preset["threads"] = smk.threads
device = preset.get("device")
summary = train(
    model_spec=dict(smk.params.spec),
    preset=preset,
    train_path=Path(smk.input[0]),
    out_dir=Path(smk.output.model).parent,
    seed=smk.params.seed,
    device=None if device == "auto" else device,
    log=log.info,
)
log.info("finished: %s", summary)
