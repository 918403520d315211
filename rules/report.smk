"""One self-contained HTML comparison report, with the figures also registered for --report."""


rule report:
    input:
        metrics=eval_targets(),
        predictions=[
            p.replace("metrics.json", "predictions.npz") for p in eval_targets()
        ],
        histories=[p.replace("model.pt", "history.tsv") for p in model_targets()],
        tables=expand("results/datasets/{dataset}.tsv.gz", dataset=used_datasets()),
        profiles=[
            p.replace(".npz", ".json")
            for ds in used_datasets()
            for p in profile_shards(ds)
        ],
        database=DATABASE_DIR,
        redundancy=redundancy_targets(),
        backends=config["report"]["profile_backends"] or [],
        parse_stats=[
            f"results/datasets/{ds}.json"
            for ds in used_datasets()
            if config["datasets"][ds]["task"] == "per_protein"
        ],
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
        experiments={e: experiment(e) for e in EXPERIMENTS},
        published=config.get("published", []),
        benchmarks=benchmark_files(),
        config=config,
        redundancy=config["redundancy"],
    script:
        "../scripts/report.py"
