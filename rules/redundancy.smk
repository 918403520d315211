"""Flag test chains similar to training chains (MMseqs2); the report shows accuracy without them."""


rule redundancy:
    input:
        train=lambda wildcards: paths.fill(
            paths.DATASET_TABLE, dataset=train_dataset(wildcards.experiment)
        ),
        test=lambda wildcards: paths.fill(
            paths.DATASET_TABLE,
            dataset=test_set(wildcards.experiment, wildcards.testset)["dataset"],
        ),
    output:
        paths.REDUNDANCY,
    log:
        paths.log("redundancy"),
    benchmark:
        paths.benchmark("redundancy")
    conda:
        "../envs/mmseqs2.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        code=script_code("redundancy"),
        settings=config["redundancy"],
        tool_version=lambda wildcards: tool_version("mmseqs2"),
    script:
        "../scripts/redundancy.py"
