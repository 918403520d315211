"""Download every declared input file (public URL or mirror), verify its sha256, write atomically."""


rule download:
    output:
        "resources/downloads/{file}",
    log:
        "logs/download/{file}.log",
    benchmark:
        "benchmarks/download/{file}.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 512 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        entry=lambda wildcards: config["files"][wildcards.file],
        mirror=config.get("mirror") or None,
        timeout=config["download"]["timeout"],
        retries=config["download"]["retries"],
    script:
        "../scripts/download.py"
