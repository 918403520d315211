"""Predict secondary structure of the proteins in a user FASTA (config `predict_fasta`)."""

PREDICT_FASTA = config.get("predict_fasta") or ""
PREDICT_MODEL = config.get("predict_model") or MODELS[0]

if PREDICT_FASTA and PREDICT_MODEL not in MODELS:
    sys.exit(
        f"protrnn: config key predict_model: {PREDICT_MODEL!r} is not in models "
        f"({', '.join(MODELS)})"
    )


def predict_targets():
    """The prediction outputs when `predict_fasta` is set, else nothing."""
    if not PREDICT_FASTA:
        return []
    return [f"results/predict/{PREDICT_MODEL}/predictions.fasta"]


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
        "../envs/mmseqs2.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        backend=BACKEND,
        settings=config["profiles"][BACKEND],
    script:
        "../scripts/predict.py"
