"""CPU cost of a training step when one-thread training jobs time-share the cores, as the README
command runs them (Snakemake `--cores 8` on a 2-core machine), against the same jobs run `--cores`
at a time.

Usage:
    python bench/oversubscription.py [--jobs 6] [--cores 2] [--steps 40] [--rounds 2]

A job is a subprocess that trains models.bigru at the cpu preset's size (one torch thread,
protrnn's training step on synthetic NetSurfP-length batches of 32, as bench/train_throughput.py)
for ``--steps`` steps after 3 warm-up steps, and reports its own CPU seconds per step. Setting
"paced" (the baseline) runs the jobs ``--cores`` at a time; setting "shared" starts all ``--jobs``
at once. The rounds alternate paced and shared, so that drift of a noisy machine hits both; the
ratios shared / paced of CPU seconds per step and of the wall time of all jobs are the numbers
to report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def worker(steps: int, seed: int) -> dict:
    """Train ``steps`` steps in this process; CPU and wall seconds per step."""
    import numpy as np
    import torch

    sys.path.insert(0, str(BENCH))
    from train_throughput import DEFAULT_CONFIG, protrnn_step, sample_lengths, synthetic_set

    from protrnn.config import load_config, model_spec
    from protrnn.encode import N_FEATURES
    from protrnn.model.batching import make_batches
    from protrnn.model.zoo import build_model

    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    data = synthetic_set(sample_lengths(2000, rng), rng)
    config = load_config(DEFAULT_CONFIG)
    spec = model_spec(config, "bigru")
    torch.manual_seed(seed)
    model = build_model(spec, N_FEATURES).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.005, weight_decay=0.01)
    batches = make_batches(data.lengths, 32, None, rng)[: steps + 3]
    weights, device = {"ss8": 1.0, "ss3": 1.0}, torch.device("cpu")
    for idx in batches[:3]:
        protrnn_step(model, optimizer, data, idx, device, weights, 1.0, False)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for idx in batches[3:]:
        protrnn_step(model, optimizer, data, idx, device, weights, 1.0, False)
    n = len(batches) - 3
    return {
        "cpu_per_step": (time.process_time() - cpu0) / n,
        "wall_per_step": (time.perf_counter() - wall0) / n,
    }


def run_jobs(n_jobs: int, at_once: int, steps: int) -> tuple[float, list[dict]]:
    """Run ``n_jobs`` workers, ``at_once`` at a time; (wall seconds, their reports)."""
    command = [sys.executable, __file__, "--worker", "--steps", str(steps)]
    reports, pending, running = [], list(range(n_jobs)), []
    start = time.perf_counter()
    while pending or running:
        while pending and len(running) < at_once:
            seed = pending.pop(0)
            running.append(
                subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, text=True)
            )
        done = running.pop(0)
        out, _ = done.communicate()
        if done.returncode != 0:
            raise SystemExit(f"a worker failed (exit {done.returncode})")
        reports.append(json.loads(out))
    return time.perf_counter() - start, reports


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.steps, args.seed)))
        return
    totals = {"paced": [0.0, 0.0], "shared": [0.0, 0.0]}
    for r in range(args.rounds):
        for setting in ("paced", "shared") if r % 2 == 0 else ("shared", "paced"):
            at_once = args.cores if setting == "paced" else args.jobs
            wall, reports = run_jobs(args.jobs, at_once, args.steps)
            cpu = sum(x["cpu_per_step"] for x in reports) / len(reports)
            totals[setting][0] += wall
            totals[setting][1] += cpu
            print(
                f"round {r + 1} {setting}: {at_once} at once, wall {wall:.1f} s, "
                f"CPU {cpu:.3f} s/step",
                flush=True,
            )
    (paced_wall, paced_cpu), (shared_wall, shared_cpu) = totals["paced"], totals["shared"]
    print(f"\n| setting | jobs at once | wall (s, {args.rounds} rounds) | CPU s per step |")
    print("|---|---:|---:|---:|")
    print(f"| paced (baseline) | {args.cores} | {paced_wall:.1f} | {paced_cpu / args.rounds:.3f} |")
    print(f"| shared | {args.jobs} | {shared_wall:.1f} | {shared_cpu / args.rounds:.3f} |")
    print(
        f"\nratio shared / paced: wall {shared_wall / paced_wall:.2f}, "
        f"CPU per step {shared_cpu / paced_cpu:.2f}"
    )


if __name__ == "__main__":
    main()
