"""Rule profile_search: one query shard -> raw L x 20 PSSMs (BLAST column order) + provenance."""

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.fasta import read_fasta  # noqa: E402
from protrnn.profiles.database import find_mmseqs, mmseqs_version  # noqa: E402
from protrnn.profiles.mmseqs2 import search_profiles  # noqa: E402
from protrnn.profiles.store import write_shard  # noqa: E402
from protrnn.runlog import setup_logging  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
queries = dict(read_fasta(Path(smk.input.queries)))
db_dir = Path(smk.input.database)
db_info = json.loads((db_dir / "db.json").read_text())
mmseqs = find_mmseqs()
workdir = Path(tempfile.mkdtemp(prefix="protrnn_mmseqs_"))
try:
    if queries:
        profiles, stats = search_profiles(
            queries, db_dir / "db", dict(smk.params.settings), smk.threads, workdir, mmseqs
        )
    else:
        profiles, stats = {}, {"n_queries": 0, "n_no_hits": 0}
finally:
    shutil.rmtree(workdir, ignore_errors=True)
provenance = {
    "backend": smk.params.backend,
    "tool": "mmseqs2",
    "version": mmseqs_version(mmseqs),
    "parameters": stats.get("params", dict(smk.params.settings)),
    "database": {k: db_info.get(k) for k in ("checksum", "n_sequences", "n_residues")},
    "stats": stats,
    "column_order": "ARNDCQEGHILKMFPSTWYV",
}
log.info("shard %s: %s", smk.wildcards.shard, stats)
write_shard(Path(smk.output.profiles), profiles, provenance)
