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
    script:
        "../scripts/download.py"


rule download_structure:
    output:
        "resources/structures/{pdb}.cif",
    log:
        "logs/download/structures/{pdb}.log",
    benchmark:
        "benchmarks/download/structures/{pdb}.tsv"
    wildcard_constraints:
        pdb="[0-9A-Z]{4}",
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 512 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        entry=lambda wildcards: structure_sources()[wildcards.pdb],
    script:
        "../scripts/download.py"
