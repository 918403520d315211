"""Rule parse_dataset: source files -> canonical table (optionally subsampled)."""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.fileio import atomic_write_text  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.table import load_dataset, subsample, validate_table, write_table  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
spec = dict(smk.params.spec)
name = smk.wildcards.dataset
files = {role: Path(path) for role, path in smk.input.items()}
options = dict(spec.get("options") or {})
options.update({k: spec[k] for k in ("member", "split") if k in spec})
if spec["format"] in ("netsurfp_csv", "dcrnn_cb513_csv"):
    options.setdefault("prefix", name)
if spec["format"] == "pdb_chains":
    options["chains"] = list(spec["chains"])
table = load_dataset(spec["format"], files, options)
stats = dict(table.attrs.get("parse_stats") or {})
log.info("%s: parsed %d proteins", name, len(table))
table = subsample(table, smk.params.max_proteins, smk.params.seed)
if smk.params.max_train_proteins:
    # the preset caps the proteins a model trains on; held-out test proteins stay whole
    is_test = table["split"] == "test"
    kept = subsample(
        table[~is_test].reset_index(drop=True), smk.params.max_train_proteins, smk.params.seed
    )
    table = pd.concat([kept, table[is_test]], ignore_index=True)
validate_table(table, name)
log.info(
    "%s: %d proteins after subsampling; splits %s",
    name,
    len(table),
    table["split"].value_counts().to_dict(),
)
# the parser's own counts stay as they are; what the subsampling kept is recorded beside them
stats["written"] = {
    "n_proteins": len(table),
    "splits": {str(k): int(v) for k, v in table["split"].value_counts().items()},
}
atomic_write_text(smk.output.stats, json.dumps(stats, indent=2, default=str) + "\n")
write_table(table, Path(smk.output.table))
