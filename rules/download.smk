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
        mem_mb=512,
        runtime=60,
    params:
        entry=lambda wildcards: config["files"][wildcards.file],
        mirror=config.get("mirror") or None,
        timeout=config["download"]["timeout"],
        retries=config["download"]["retries"],
    script:
        "../scripts/download.py"
