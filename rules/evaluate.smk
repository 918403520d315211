"""Evaluate a trained model on a test set (its proteins with split test)."""


rule evaluate:
    input:
        model=paths.MODEL,
        encoded=lambda wildcards: paths.fill(
            paths.ENCODED,
            dataset=test_set(wildcards.experiment, wildcards.testset)["dataset"],
        ),
    output:
        metrics=paths.EVAL_METRICS,
        per_class=paths.EVAL_PER_CLASS,
        predictions=paths.EVAL_PREDICTIONS,
    log:
        paths.log("evaluate"),
    benchmark:
        paths.benchmark("evaluate")
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        code=script_code("evaluate"),
        mask=lambda wildcards: test_set(wildcards.experiment, wildcards.testset)["mask"],
    script:
        "../scripts/evaluate.py"
