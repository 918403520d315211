"""Rule download: fetch one declared file from its URL or the mirror and verify its checksum."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).parent))  # noqa: F821

from protrnn.core.runlog import setup_logging  # noqa: E402
from protrnn.data.download import DownloadError, fetch  # noqa: E402

smk = snakemake  # noqa: F821
log = setup_logging(smk.log[0])
entry = smk.params.entry
# not params: where a file comes from and how patiently does not change it (the sha256 says so)
mirror = smk.config.get("mirror") or None
name = smk.wildcards.get("file") or f"mmCIF of {smk.wildcards.pdb}"
local = entry.get("path")
try:
    if local:
        # a file the user brings: copied (and checked when sha256 is given), never from the mirror
        source = Path(local).resolve()
        if not source.is_file():
            raise DownloadError(f"files.{name}.path: {source} does not exist")
        log.info("copying %s from %s", name, source)
    else:
        log.info("downloading %s (mirror: %s)", name, mirror or "none")
    fetch(
        name=name,
        url=source.as_uri() if local else entry.get("url"),
        sha256=entry.get("sha256"),
        mirror_path=None if local else entry.get("mirror_path"),
        dest=Path(smk.output[0]),
        mirror=None if local else mirror,
        timeout=smk.config["download"]["timeout"],
        retries=smk.config["download"]["retries"],
    )
except DownloadError as error:  # one line naming the file; nothing is left at the output path
    sys.exit(f"protrnn: {error}")
log.info("done: %s", smk.output[0])
