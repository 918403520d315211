"""Profile database and sharded PSI-BLAST-style profile search (self-hits removed, cached)."""


rule profile_database:
    input:
        lambda wildcards: [
            download_path(k) for k in config["profile_databases"][wildcards.database]
        ],
    output:
        directory(paths.PROFILE_DATABASE),
    log:
        paths.log("profile_database"),
    benchmark:
        paths.benchmark("profile_database")
    wildcard_constraints:
        backend="mmseqs2|psiblast|jackhmmer",
    conda:
        # the env of the backend being built ({backend}), not of the configured one
        lambda wildcards: f"../envs/{wildcards.backend}.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        code=script_code("profile_database"),
        cluster=config["profiles"]["cluster"],
        tool_version=lambda wildcards: tool_version(wildcards.backend),
    script:
        "../scripts/profile_database.py"


rule profile_search:
    input:
        table=paths.DATASET_TABLE,
        database=DATABASE_DIR,
    output:
        profiles=paths.PROFILE_SHARD,
        provenance=paths.PROFILE_PROVENANCE,
    log:
        paths.log("profile_search"),
    benchmark:
        paths.benchmark("profile_search")
    # training datasets first, the one most models train on first
    priority: lambda wildcards: profile_priority(wildcards.dataset)
    conda:
        f"../envs/{BACKEND}.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        code=script_code("profile_search"),
        n_shards=lambda wildcards: dataset_shards(wildcards.dataset),
        backend=BACKEND,
        settings=config["profiles"].get(BACKEND, {}),
        tool_version=lambda wildcards: tool_version(BACKEND),
    script:
        "../scripts/profile_search.py"
