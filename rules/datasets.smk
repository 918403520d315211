"""Parse each dataset into one canonical table (id, sequence, ss8, ss3, masks, split, label)."""


rule parse_dataset:
    input:
        unpack(dataset_files),
    output:
        table=paths.DATASET_TABLE,
        stats=paths.DATASET_STATS,
    log:
        paths.log("parse_dataset"),
    benchmark:
        paths.benchmark("parse_dataset")
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        code=script_code("parse_dataset"),
        spec=lambda wildcards: config["datasets"][wildcards.dataset],
        max_proteins=lambda wildcards: dataset_max_proteins(wildcards.dataset),
        max_train_proteins=lambda wildcards: dataset_max_train_proteins(
            wildcards.dataset
        ),
        seed=config["train"]["seed"],
        tools=lambda wildcards: labelling_tools(wildcards.dataset),
    script:
        "../scripts/parse_dataset.py"
