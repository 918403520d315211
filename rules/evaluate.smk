"""Evaluate a trained model on a test set: Q8, Q3, per-class scores, confusion matrices."""


rule evaluate:
    input:
        model="results/models/{model}/model.pt",
        encoded=lambda wildcards: f"results/encoded/{TEST_SETS[wildcards.testset]['dataset']}.npz",
    output:
        metrics="results/eval/{model}/{testset}/metrics.json",
        per_class="results/eval/{model}/{testset}/per_class.tsv",
        predictions="results/eval/{model}/{testset}/predictions.npz",
    log:
        "logs/evaluate/{model}/{testset}.log",
    benchmark:
        "benchmarks/evaluate/{model}/{testset}.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        mask=lambda wildcards: TEST_SETS[wildcards.testset]["mask"],
    script:
        "../scripts/evaluate.py"
