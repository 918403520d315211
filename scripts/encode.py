"""Rule encode: canonical table + profile shards -> compressed feature arrays + provenance (the
encoding and what the shards' profiles were made of; shards that disagree are an error)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.alphabet import sequence_hash  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.encode import encode_dataset, shard_provenance  # noqa: E402
from protrnn.profiles.store import read_shard  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
table = read_table(Path(smk.input.table))
provenance = shard_provenance([Path(p) for p in smk.input.profiles])
needed = {sequence_hash(s) for s in table["sequence"]}
profiles = {}
for path in smk.input.profiles:
    shard = read_shard(Path(path))
    profiles.update({k: v for k, v in shard.items() if k in needed})
missing = needed - set(profiles)
if missing:
    raise ValueError(f"{smk.wildcards.dataset}: {len(missing)} sequences lack a profile")
kwargs = {"classes": list(smk.params.classes)} if smk.params.classes else {}
summary = encode_dataset(
    table,
    profiles,
    Path(smk.output[0]),
    task=smk.params.task,
    profile_provenance=provenance,
    **kwargs,
)
log.info("%s: %s", smk.wildcards.dataset, summary)
