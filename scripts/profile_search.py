"""Rule profile_search: one shard of a dataset -> raw L x 20 PSSMs (BLAST order), their extra
per-position columns (protrnn.profiles.extras) and provenance.

Shard i of n holds the dataset's unique sequences whose hash is i modulo n. Profiles come from
:func:`protrnn.profiles.service.profiles_for`: the content-addressed cache where present, the rest
searched in chunks, each chunk cached as soon as it is done, so a killed job resumes.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.alphabet import sequence_hash  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.profiles.service import profiles_for  # noqa: E402
from protrnn.profiles.store import write_shard  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
shard, n_shards = int(smk.wildcards.shard), int(smk.params.n_shards)
queries: dict[str, str] = {}
for sequence in read_table(Path(smk.input.table))["sequence"]:
    key = sequence_hash(sequence)
    if int(key, 16) % n_shards == shard:
        queries.setdefault(key, sequence.upper())
queries = dict(sorted(queries.items()))
result = profiles_for(
    queries,
    smk.params.backend,
    Path(smk.input.database),
    dict(smk.params.settings),
    smk.config["profiles"]["cache_dir"],
    smk.threads,
    chunk_size=smk.config["profiles"]["chunk_size"],  # not a param: it does not change outputs
    label=f"{smk.wildcards.dataset} shard {shard}/{n_shards}",
)
write_shard(Path(smk.output.profiles), result.profiles, result.provenance())
