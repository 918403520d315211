"""Encode a dataset: one-hot residues + scaled PSSM + masks, compressed."""


rule encode:
    input:
        table="results/datasets/{dataset}.tsv.gz",
        profiles=lambda wildcards: profile_shards(wildcards.dataset),
    output:
        "results/encoded/{dataset}.npz",
    log:
        "logs/encode/{dataset}.log",
    benchmark:
        "benchmarks/encode/{dataset}.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        task=lambda wildcards: config["datasets"][wildcards.dataset]["task"],
        classes=lambda wildcards: config["datasets"][wildcards.dataset].get("classes"),
    script:
        "../scripts/encode.py"
