"""protrnn: protein secondary structure with recurrent and convolutional-recurrent networks."""

from snakemake.utils import min_version

min_version("8.0")


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
