"""Rule redundancy: test proteins with >= 25 % identity to a training protein (MMseqs2)."""

import os
import sys
from pathlib import Path

# mmseqs' OpenMP threads sleep instead of spinning while they wait: beside other jobs on 2 cores,
# spinning doubled the CPU time of the all-against-all pass (bench/redundancy_speed.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.fileio import atomic_path  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.core.tools import find_mmseqs  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.evaluation.redundancy import flag_redundant  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
train = read_table(Path(smk.input.train))
train = train[train["split"] != "test"]  # what the models trained and early-stopped on
test = read_table(Path(smk.input.test))
test = test[test["split"] == "test"]
flags = flag_redundant(
    dict(zip(test["id"], test["sequence"], strict=True)),
    dict(zip(train["id"], train["sequence"], strict=True)),
    find_mmseqs(),
    threads=smk.threads,
    **dict(smk.params.settings),
)
with atomic_path(smk.output[0]) as tmp:
    flags.to_csv(tmp, sep="\t", index=False, float_format="%.4g")
log.info(
    "%s: %d of %d test proteins have >= %.0f %% identity to one of %d training proteins",
    smk.wildcards.testset,
    int(flags["redundant"].sum()),
    len(flags),
    100 * smk.params.settings["min_identity"],
    len(train),
)
