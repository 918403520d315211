"""Rule download: fetch one declared file from its URL or the mirror and verify its checksum."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.download import fetch  # noqa: E402
from protrnn.runlog import setup_logging  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
entry = smk.params.entry
name = smk.wildcards.file
log.info("downloading %s (mirror: %s)", name, smk.params.mirror or "none")
fetch(
    name=name,
    url=entry.get("url"),
    sha256=entry.get("sha256"),
    mirror_path=entry.get("mirror_path"),
    dest=Path(smk.output[0]),
    mirror=smk.params.mirror,
    timeout=smk.params.timeout,
    retries=smk.params.retries,
)
log.info("done: %s", smk.output[0])
