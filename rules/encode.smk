"""Encode a dataset: one-hot residues + scaled PSSM + masks, compressed."""


rule encode:
    input:
        table="results/datasets/{dataset}.tsv.gz",
        profiles=profile_shards(),
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
        mem_mb=8000,
        runtime=30,
    params:
        task=lambda wildcards: config["datasets"][wildcards.dataset]["task"],
    script:
        "../scripts/encode.py"
