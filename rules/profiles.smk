"""Profile database and sharded PSI-BLAST-style profile search (self-hits removed, cached)."""


rule profile_database:
    input:
        lambda wildcards: [
            download_path(k) for k in config["profile_databases"][wildcards.database]
        ],
    output:
        directory("resources/profile_db/{database}/{backend}"),
    log:
        "logs/profiles/database_{database}_{backend}.log",
    benchmark:
        "benchmarks/profiles/database_{database}_{backend}.tsv"
    wildcard_constraints:
        backend="mmseqs2|psiblast|jackhmmer",
    conda:
        f"../envs/{BACKEND}.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        cluster=config["profiles"]["cluster"],
    script:
        "../scripts/profile_database.py"


rule profile_search:
    input:
        table="results/datasets/{dataset}.tsv.gz",
        database=DATABASE_DIR,
    output:
        profiles="results/profiles/{dataset}/shard{shard}.npz",
        provenance="results/profiles/{dataset}/shard{shard}.json",
    log:
        "logs/profiles/{dataset}/shard{shard}.log",
    benchmark:
        "benchmarks/profiles/{dataset}/shard{shard}.tsv"
    conda:
        f"../envs/{BACKEND}.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        n_shards=lambda wildcards: dataset_shards(wildcards.dataset),
        backend=BACKEND,
        settings=config["profiles"].get(BACKEND, {}),
    script:
        "../scripts/profile_search.py"
