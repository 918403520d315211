"""Train one model of an experiment on its training dataset (checkpoint every epoch; resumes)."""


rule train:
    input:
        lambda wildcards: paths.fill(
            paths.ENCODED, dataset=train_dataset(wildcards.experiment)
        ),
    output:
        model=paths.MODEL,
        history=report(
            paths.HISTORY,
            caption="../report/history.rst",
            category="{experiment}",
            subcategory="Learning curves",
            labels={
                "model": "{model}",
                "table": "learning curve",
            },
        ),
    log:
        paths.log("train"),
    benchmark:
        paths.benchmark("train")
    wildcard_constraints:
        model=_names(config["models"]),
    conda:
        "../envs/python.yaml"
    threads: PRESET.get("threads", 1)
    resources:
        mem_mb=lambda wildcards, attempt: 8000 * attempt,
        runtime=lambda wildcards, attempt: 240 * attempt,
        gpu=train_resources_gpu(),
    params:
        code=script_code("train"),
        spec=lambda wildcards: model_spec(config, wildcards.model),
        preset=training_preset,
        seed=config["train"]["seed"],
    script:
        "../scripts/train.py"


rule ensemble:
    input:
        encoded=lambda wildcards: paths.fill(
            paths.ENCODED, dataset=train_dataset(wildcards.experiment)
        ),
        models=lambda wildcards: [
            paths.fill(paths.MODEL, experiment=wildcards.experiment, model=m)
            for m in experiment_models(config, wildcards.experiment)
        ],
    output:
        model=paths.ENSEMBLE,
    log:
        paths.log("ensemble"),
    benchmark:
        paths.benchmark("ensemble")
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 10 * attempt,
    params:
        code=script_code("ensemble"),
        models=lambda wildcards: experiment_models(config, wildcards.experiment),
        size=lambda wildcards: ensemble_size(config, wildcards.experiment),
    script:
        "../scripts/ensemble.py"
