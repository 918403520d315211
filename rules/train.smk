"""Train one model on the training dataset (checkpoint every epoch; a rerun resumes)."""


rule train:
    input:
        f"results/encoded/{TRAIN_DATASET}.npz",
    output:
        model="results/models/{model}/model.pt",
        history=report(
            "results/models/{model}/history.tsv",
            category="Training",
            labels={"model": "{model}", "table": "learning curve"},
        ),
    log:
        "logs/train/{model}.log",
    benchmark:
        "benchmarks/train/{model}.tsv"
    conda:
        "../envs/python.yaml"
    threads: PRESET.get("threads", 1)
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 240 * attempt,
        gpu=train_resources_gpu(),
    params:
        spec=lambda wildcards: model_spec(config, wildcards.model),
        preset=PRESET,
        seed=config["train"]["seed"],
    script:
        "../scripts/train.py"
