"""Rule profile_database: FASTA files -> the backend's search database with checksum and size.

With `profiles.cluster` set, the FASTA files are first redundancy-reduced with MMseqs2 (linclust)
and the database is built from the cluster representatives.
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.fileio import atomic_dir  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.core.tools import find_mmseqs  # noqa: E402
from protrnn.profiles.backends import get_backend  # noqa: E402
from protrnn.profiles.database import DB_INFO, cluster_fasta  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
backend = get_backend(smk.wildcards.backend)
cluster = smk.params.cluster
fasta = [Path(p) for p in smk.input]
with atomic_dir(smk.output[0]) as tmp_dir, tempfile.TemporaryDirectory(dir=tmp_dir) as work:
    clustering = None
    if cluster and cluster.get("min_seq_id"):
        reps = Path(work) / "representatives.fasta"
        clustering = cluster_fasta(
            fasta, reps, cluster["min_seq_id"], cluster["coverage"], smk.threads, find_mmseqs()
        )
        log.info("clustered: %s", clustering)
        fasta = [reps]
    info = backend.build_database(fasta, tmp_dir, smk.threads)
    if clustering:
        info["clustering"] = clustering
        (tmp_dir / DB_INFO).write_text(json.dumps(info, indent=2) + "\n")
log.info("database: %s", info)
