"""One self-contained HTML comparison report, with the figures also registered for --report."""


rule report:
    input:
        metrics=eval_targets(),
        predictions=[
            p.replace("metrics.json", "predictions.npz") for p in eval_targets()
        ],
        histories=expand("results/models/{model}/history.tsv", model=MODELS),
        tables=expand("results/datasets/{dataset}.tsv.gz", dataset=used_datasets()),
        profiles=expand("results/profiles/shard{shard}.json", shard=range(N_SHARDS)),
        database=f"resources/profile_db/{DATABASE}/mmseqs2",
    output:
        html=report(
            "results/report/index.html",
            category="Report",
            labels={"page": "comparison report"},
        ),
        accuracy=report(
            "results/report/accuracy.tsv",
            category="Report",
            labels={"page": "accuracy table"},
        ),
        figures=report(
            directory("results/report/figures"),
            patterns=["{name}.png"],
            category="Figures",
            labels={"figure": "{name}"},
        ),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        models=MODELS,
        test_sets=TEST_SETS,
        published=config.get("published", []),
        benchmarks=benchmark_files(),
        config=config,
    script:
        "../scripts/report.py"
