"""Flag test chains similar to training chains (MMseqs2); the report shows accuracy without them."""


rule redundancy:
    input:
        train=lambda wildcards: f"results/datasets/{train_dataset(wildcards.experiment)}.tsv.gz",
        test=lambda wildcards: "results/datasets/{}.tsv.gz".format(
            test_set(wildcards.experiment, wildcards.testset)["dataset"]
        ),
    output:
        "results/redundancy/{experiment}/{testset}.tsv",
    log:
        "logs/redundancy/{experiment}/{testset}.log",
    benchmark:
        "benchmarks/redundancy/{experiment}/{testset}.tsv"
    conda:
        "../envs/mmseqs2.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        settings=config["redundancy"],
    script:
        "../scripts/redundancy.py"
