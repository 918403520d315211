"""Predict secondary structure of the proteins in a user FASTA (config `predict_fasta`)."""


rule predict:
    input:
        fasta=PREDICT_FASTA or "predict_fasta-is-not-set",
        model="results/models/{experiment}/{model}/model.pt",
        database=DATABASE_DIR,
    output:
        predictions="results/predict/{experiment}/{model}/predictions.fasta",
        ss2=directory("results/predict/{experiment}/{model}/ss2"),
        ids="results/predict/{experiment}/{model}/ids.tsv",
        summary="results/predict/{experiment}/{model}/summary.json",
        encoded="results/predict/{experiment}/{model}/encoded.npz",
    log:
        "logs/predict/{experiment}/{model}.log",
    benchmark:
        "benchmarks/predict/{experiment}/{model}.tsv"
    conda:
        "../envs/predict.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        backend=BACKEND,
        settings=config["profiles"].get(BACKEND, {}),
    script:
        "../scripts/predict.py"
