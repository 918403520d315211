"""Train one model of an experiment on its training dataset (checkpoint every epoch; resumes)."""


rule train:
    input:
        lambda wildcards: f"results/encoded/{train_dataset(wildcards.experiment)}.npz",
    output:
        model="results/models/{experiment}/{model}/model.pt",
        history=report(
            "results/models/{experiment}/{model}/history.tsv",
            category="Training",
            labels={
                "experiment": "{experiment}",
                "model": "{model}",
                "table": "learning curve",
            },
        ),
    log:
        "logs/train/{experiment}/{model}.log",
    benchmark:
        "benchmarks/train/{experiment}/{model}.tsv"
    conda:
        "../envs/python.yaml"
    threads: PRESET.get("threads", 1)
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 240 * attempt,
        gpu=train_resources_gpu(),
    params:
        spec=lambda wildcards: model_spec(config, wildcards.model),
        preset=lambda wildcards: experiment_preset(wildcards.experiment),
        seed=config["train"]["seed"],
    script:
        "../scripts/train.py"
