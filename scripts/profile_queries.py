"""Rule profile_queries: unique sequences of all datasets -> FASTA shards keyed by sequence hash."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.alphabet import sequence_hash  # noqa: E402
from protrnn.datasets import read_table  # noqa: E402
from protrnn.fasta import write_fasta  # noqa: E402
from protrnn.runlog import setup_logging  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
unique: dict[str, str] = {}
for path in smk.input:
    for sequence in read_table(Path(path))["sequence"]:
        unique.setdefault(sequence_hash(sequence), sequence.upper())
n_shards = len(smk.output)
shards: list[list[tuple[str, str]]] = [[] for _ in range(n_shards)]
for key in sorted(unique):
    shards[int(key, 16) % n_shards].append((key, unique[key]))
for path, records in zip(smk.output, shards, strict=True):
    write_fasta(records, Path(path))
log.info(
    "%d unique sequences in %d shards (%s)",
    len(unique),
    n_shards,
    ", ".join(str(len(s)) for s in shards),
)
