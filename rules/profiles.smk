"""Profile database and sharded PSI-BLAST-style profile search (MMseqs2, self-hits removed)."""


rule profile_database:
    input:
        lambda wildcards: [
            download_path(k) for k in config["profile_databases"][wildcards.database]
        ],
    output:
        directory("resources/profile_db/{database}/mmseqs2"),
    log:
        "logs/profiles/database_{database}.log",
    benchmark:
        "benchmarks/profiles/database_{database}.tsv"
    conda:
        "../envs/mmseqs2.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    script:
        "../scripts/profile_database.py"


rule profile_queries:
    input:
        expand("results/datasets/{dataset}.tsv.gz", dataset=used_datasets()),
    output:
        expand("results/profiles/queries/shard{shard}.fasta", shard=range(N_SHARDS)),
    log:
        "logs/profiles/queries.log",
    benchmark:
        "benchmarks/profiles/queries.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    script:
        "../scripts/profile_queries.py"


rule profile_search:
    input:
        queries="results/profiles/queries/shard{shard}.fasta",
        database=f"resources/profile_db/{DATABASE}/mmseqs2",
    output:
        profiles="results/profiles/shard{shard}.npz",
        provenance="results/profiles/shard{shard}.json",
    log:
        "logs/profiles/shard{shard}.log",
    benchmark:
        "benchmarks/profiles/shard{shard}.tsv"
    conda:
        "../envs/mmseqs2.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        backend=BACKEND,
        settings=config["profiles"][BACKEND],
    script:
        "../scripts/profile_search.py"
