"""Predict secondary structure of the proteins in a user FASTA (config `predict_fasta`)."""


rule predict:
    input:
        fasta=PREDICT_FASTA or "predict_fasta-is-not-set",
        model="results/models/{model}/model.pt",
        database=f"resources/profile_db/{DATABASE}/mmseqs2",
    output:
        predictions="results/predict/{model}/predictions.fasta",
        ss2=directory("results/predict/{model}/ss2"),
        ids="results/predict/{model}/ids.tsv",
        summary="results/predict/{model}/summary.json",
        encoded="results/predict/{model}/encoded.npz",
    log:
        "logs/predict/{model}.log",
    benchmark:
        "benchmarks/predict/{model}.tsv"
    conda:
        "../envs/predict.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        backend=BACKEND,
        settings=config["profiles"][BACKEND],
    script:
        "../scripts/predict.py"
