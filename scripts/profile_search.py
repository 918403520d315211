"""Rule profile_search: one shard of a dataset -> raw L x 20 PSSMs (BLAST order) + provenance.

Shard i of n holds the dataset's unique sequences whose hash is i modulo n.
Profiles come from the content-addressed cache (protrnn/profiles/cache.py) where present; the
rest are searched in chunks, each chunk cached as soon as it is done, so a killed job resumes.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.alphabet import sequence_hash  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.profiles.backends import get_backend  # noqa: E402
from protrnn.profiles.cache import ProfileCache  # noqa: E402
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
db_dir = Path(smk.input.database)
db_info = json.loads((db_dir / "db.json").read_text())
backend = get_backend(smk.params.backend)
params = backend.check_params(dict(smk.params.settings))
cache = ProfileCache(
    smk.config["profiles"]["cache_dir"], db_info["checksum"], smk.params.backend, params
)
todo = cache.missing(queries)
log.info(
    "%s shard %s/%s: %d unique sequences, %d in the cache (%s), %d to search",
    smk.wildcards.dataset,
    shard,
    n_shards,
    len(queries),
    len(queries) - len(todo),
    cache.folder,
    len(todo),
)
chunk = smk.config["profiles"]["chunk_size"]  # not a param: it does not change outputs
runs = []
workdir = Path(tempfile.mkdtemp(prefix=f"protrnn_{smk.params.backend}_"))
try:
    for start in range(0, len(todo), chunk):
        part = {key: queries[key] for key in todo[start : start + chunk]}
        found, stats = backend.search_profiles(part, db_dir, params, smk.threads, workdir)
        cache.put_many(found)
        runs.append(stats)
        log.info("searched %d / %d (%s s)", start + len(part), len(todo), stats.get("seconds"))
finally:
    shutil.rmtree(workdir, ignore_errors=True)
profiles = {key: cache.get(key, len(seq)) for key, seq in queries.items()}
provenance = {
    "backend": smk.params.backend,
    "tool": runs[0].get("tool", smk.params.backend) if runs else smk.params.backend,
    "version": runs[0].get("version") if runs else None,
    "parameters": params,
    "database": {k: db_info.get(k) for k in ("checksum", "n_sequences", "n_residues")},
    "cache": {"folder": str(cache.folder), "key": cache.key},
    "stats": {
        "n_queries": len(queries),
        "n_from_cache": len(queries) - len(todo),
        "n_searched": len(todo),
        "n_no_hits": sum(r.get("n_no_hits", 0) for r in runs),
        "seconds": round(sum(r.get("seconds", 0) for r in runs), 2),
        "chunks": [{k: v for k, v in r.items() if k != "iterations"} for r in runs],
    },
    "column_order": "ARNDCQEGHILKMFPSTWYV",
    "unit": "half-bit log-odds",
}
write_shard(Path(smk.output.profiles), profiles, provenance)
