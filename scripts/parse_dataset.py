"""Rule parse_dataset: source files -> canonical table (optionally subsampled)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.fileio import atomic_write_text  # noqa: E402
from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.download import DownloadError, verify_downloads  # noqa: E402
from protrnn.data.formats.options import dataset_options  # noqa: E402
from protrnn.data.registry import load_dataset  # noqa: E402
from protrnn.data.table import (  # noqa: E402
    cap_training,
    crop_termini,
    subsample,
    validate_table,
    write_table,
)

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
spec = dict(smk.params.spec)
name = smk.wildcards.dataset
files = {role: Path(path) for role, path in smk.input.items()}
try:
    # a cached download edited in place must not be parsed as if it were the declared file
    verify_downloads(files, spec["files"], smk.config["files"])
    table = load_dataset(spec["format"], files, dataset_options(name, spec))
    # long proteins lose their middle (datasets.<name>.max_length; DeepLoc 1.0's recipe)
    table, cropped = crop_termini(table, spec.get("max_length"))
except (ValueError, DownloadError) as error:  # bad input: one line naming file and record
    sys.exit(f"protrnn: dataset {name}: {error}")
stats = dict(table.attrs.get("parse_stats") or {})
log.info("%s: parsed %d proteins", name, len(table))
if cropped:
    stats["cropped"] = cropped
    log.info(
        "%s: %d proteins longer than %d residues cut to their termini (%d of %d residues removed)",
        name,
        cropped["n_cropped"],
        cropped["max_length"],
        cropped["residues_removed"],
        cropped["residues_before"],
    )
table = subsample(table, smk.params.max_proteins, smk.params.seed)
# the preset caps the proteins a model trains on; held-out test proteins stay whole
table = cap_training(table, smk.params.max_train_proteins, smk.params.seed)
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
