"""Predict secondary structure of the proteins in a user FASTA (config `predict_fasta`)."""


rule predict:
    input:
        fasta=PREDICT_FASTA or "predict_fasta-is-not-set",
        model=paths.MODEL,
        database=DATABASE_DIR,
    output:
        predictions=paths.PREDICT_FASTA,
        ss2=directory(paths.PREDICT_SS2),
        svg=directory(paths.PREDICT_SVG),
        index=paths.PREDICT_INDEX,
        ids=paths.PREDICT_IDS,
        summary=paths.PREDICT_SUMMARY,
        encoded=paths.PREDICT_ENCODED,
    log:
        paths.log("predict"),
    benchmark:
        paths.benchmark("predict")
    conda:
        "../envs/predict.yaml"
    threads: config["profiles"]["threads"]
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        code=script_code("predict"),
        backend=BACKEND,
        settings=config["profiles"].get(BACKEND, {}),
    script:
        "../scripts/predict.py"
