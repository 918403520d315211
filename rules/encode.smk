"""Encode a dataset: the feature blocks of encode.features (default: all six) + masks,
compressed, with the provenance of the encoding and of the profiles (from the shards'
provenance JSONs). encode.features is a param (so changing it reruns encode and everything
downstream) unless it is one-hot + PSSM, the encoding of outputs written before the setting
existed, which stay current.
"""

from protrnn.config import encode_params


rule encode:
    input:
        table=paths.DATASET_TABLE,
        profiles=lambda wildcards: profile_shards(wildcards.dataset),
        provenance=lambda wildcards: profile_shards(
            wildcards.dataset, paths.PROFILE_PROVENANCE
        ),
    output:
        paths.ENCODED,
    log:
        paths.log("encode"),
    benchmark:
        paths.benchmark("encode")
    # training datasets first, the one most models train on first
    priority: lambda wildcards: profile_priority(wildcards.dataset)
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        **encode_params(config),
        code=script_code("encode"),
        task=lambda wildcards: config["datasets"][wildcards.dataset]["task"],
        classes=lambda wildcards: config["datasets"][wildcards.dataset].get("classes"),
    script:
        "../scripts/encode.py"
