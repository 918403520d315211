"""protrnn: protein secondary structure with recurrent and convolutional-recurrent networks."""

import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("8.0")

sys.path.insert(0, str(Path(workflow.basedir)))

from protrnn.config import ConfigError, check_config_files

# Snakemake's own message for a broken config file names neither the file nor the line: read
# the files first (overlays given with --configfile were parsed already; this finds keys given
# twice, which YAML would drop silently).
try:
    check_config_files(
        ["config/config.yaml", *workflow.overwrite_configfiles], missing_ok=True
    )
except ConfigError as error:
    sys.exit(f"protrnn: {error}")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/datasets.smk"
include: "rules/profiles.smk"
include: "rules/encode.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/redundancy.smk"
include: "rules/predict.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
