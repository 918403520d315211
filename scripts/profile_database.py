"""Rule profile_database: FASTA files -> the backend's search database with checksum and size."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.fileio import atomic_dir  # noqa: E402
from protrnn.profiles.backends import get_backend  # noqa: E402
from protrnn.runlog import setup_logging  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
backend = get_backend(smk.wildcards.backend)
with atomic_dir(smk.output[0]) as tmp_dir:
    info = backend.build_database([Path(p) for p in smk.input], tmp_dir, smk.threads)
log.info("database: %s", info)
