"""Rule parse_dataset: source files -> canonical table (optionally subsampled)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.datasets import load_dataset, subsample, validate_table, write_table  # noqa: E402
from protrnn.runlog import setup_logging  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
spec = dict(smk.params.spec)
name = smk.wildcards.dataset
files = {role: Path(path) for role, path in smk.input.items()}
options = {k: v for k, v in spec.items() if k not in ("format", "task", "files", "max_proteins")}
options.setdefault("prefix", name)
table = load_dataset(spec["format"], files, options)
log.info("%s: parsed %d proteins", name, len(table))
table = subsample(table, smk.params.max_proteins, smk.params.seed)
validate_table(table, name)
log.info(
    "%s: %d proteins after subsampling; splits %s",
    name,
    len(table),
    table["split"].value_counts().to_dict(),
)
write_table(table, Path(smk.output[0]))
