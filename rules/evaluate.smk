"""Evaluate a trained model on a test set (its proteins with split test)."""


rule evaluate:
    input:
        model="results/models/{experiment}/{model}/model.pt",
        encoded=lambda wildcards: "results/encoded/{}.npz".format(
            test_set(wildcards.experiment, wildcards.testset)["dataset"]
        ),
    output:
        metrics="results/eval/{experiment}/{model}/{testset}/metrics.json",
        per_class="results/eval/{experiment}/{model}/{testset}/per_class.tsv",
        predictions="results/eval/{experiment}/{model}/{testset}/predictions.npz",
    log:
        "logs/evaluate/{experiment}/{model}/{testset}.log",
    benchmark:
        "benchmarks/evaluate/{experiment}/{model}/{testset}.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        mask=lambda wildcards: test_set(wildcards.experiment, wildcards.testset)["mask"],
    script:
        "../scripts/evaluate.py"
