"""Download every declared input file (public URL or mirror), verify its sha256, write atomically.

Unlike the other rules, these take no `code` params value (rules/common.smk, script_code): a
download is the file's bytes, checked against its declared sha256, so a change to protrnn's code
does not fetch every file again.
"""


rule download:
    input:
        local_source,
    output:
        paths.DOWNLOAD,
    log:
        paths.log("download"),
    benchmark:
        paths.benchmark("download")
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 512 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        entry=download_entry,
    script:
        "../scripts/download.py"


rule download_structure:
    output:
        paths.STRUCTURE,
    log:
        paths.log("download_structure"),
    benchmark:
        paths.benchmark("download_structure")
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
