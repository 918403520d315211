"""Rule encode: canonical table + profile shards -> compressed feature arrays + provenance (the
encoding and what the shards' profiles were made of; shards that disagree are an error).

The feature blocks are the param ``features`` (absent: one-hot ++ PSSM, ``BASE_FEATURES``;
the config's default of all six blocks is passed); blocks of the profiles' extra columns read
them from the shards, and a shard without them (written by an older protrnn) is an error naming
it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.alphabet import sequence_hash  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.encode import (  # noqa: E402
    BASE_FEATURES,
    check_features,
    encode_dataset,
    needs_extras,
    shard_provenance,
)
from protrnn.profiles.store import read_shard  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
features = check_features(getattr(smk.params, "features", None) or BASE_FEATURES)
with_extras = needs_extras(features)
table = read_table(Path(smk.input.table))
provenance = shard_provenance([Path(p) for p in smk.input.profiles])
needed = {sequence_hash(s) for s in table["sequence"]}
profiles, extras = {}, {}
for path in smk.input.profiles:
    shard = read_shard(Path(path), extras=with_extras)
    profiles.update({k: v for k, v in shard.items() if k in needed})
    extras.update({k: v for k, v in shard.extras.items() if k in needed})
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
    features=features,
    extras=extras if with_extras else None,
    **kwargs,
)
log.info("%s: %s (features %s)", smk.wildcards.dataset, summary, list(features))
