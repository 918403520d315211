"""Rule profile_database: FASTA files -> the backend's search database with checksum and size.

With `profiles.cluster` set, the FASTA files are first redundancy-reduced with MMseqs2 (linclust)
and the database is built from the cluster representatives.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.profiles.service import build_database_dir  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
info = build_database_dir(
    [Path(p) for p in smk.input],
    Path(smk.output[0]),
    smk.wildcards.backend,
    smk.params.cluster,
    smk.threads,
)
log.info("database: %s", info)
