"""One self-contained HTML comparison report, with the figures also registered for --report."""


rule report:
    input:
        metrics=eval_targets(paths.EVAL_METRICS),
        predictions=eval_targets(paths.EVAL_PREDICTIONS),
        histories=model_targets(paths.HISTORY),
        tables=expand(paths.DATASET_TABLE, dataset=used_datasets()),
        profiles=[
            p
            for ds in used_datasets()
            for p in profile_shards(ds, paths.PROFILE_PROVENANCE)
        ],
        database=DATABASE_DIR,
        redundancy=redundancy_targets(),
        backends=config["report"]["profile_backends"] or [],
        studies=study_inputs(),
        parse_stats=[
            paths.fill(paths.DATASET_STATS, dataset=ds)
            for ds in used_datasets()
            if config["datasets"][ds]["task"] == "per_protein"
        ],
    output:
        html=report(
            paths.REPORT_HTML,
            caption="../report/index.rst",
            category="Overview",
            labels={"page": "comparison report"},
        ),
        accuracy=report(
            paths.REPORT_ACCURACY,
            caption="../report/accuracy.rst",
            category="Overview",
            labels={"page": "accuracy table"},
        ),
        figures=report(
            directory(paths.REPORT_FIGURES),
            patterns=["{name}.png"],
            caption="../report/figure.rst",
            category=lambda wildcards: figure_report(wildcards)[0],
            subcategory=lambda wildcards: figure_report(wildcards)[1],
            labels=lambda wildcards: {
                "figure": wildcards.name,
                "test set": figure_report(wildcards)[2],
            },
        ),
    log:
        paths.log("report"),
    benchmark:
        paths.benchmark("report")
    conda:
        "../envs/python.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 4000 * attempt,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        code=script_code("report"),
        experiments={e: experiment(e) for e in EXPERIMENTS},
        published=config.get("published", []),
        benchmarks=benchmark_files(),
        config=config,
        redundancy=config["redundancy"],
        studies=[str(d) for d in STUDY_DIRS],
    script:
        "../scripts/report.py"
