"""Training throughput (residues/s) of protrnn models against a plain PyTorch baseline.

Usage:
    python bench/train_throughput.py [--device cpu|cuda] [--threads N] [--batch-size N]
        [--max-residues N] [--steps N] [--warmup N] [--rounds N] [--models dcrnn,small_bigru]
        [--encoded results/encoded/netsurfp2_train.npz] [--max-length N] [--no-autocast]

What one step is: protrnn's training step exactly as in :func:`protrnn.model.train.train`
(``collate``
-> forward -> ``masked_loss`` -> backward -> gradient clipping -> AdamW step -> ``float(loss)``),
on batches from ``make_batches`` with the training loop's "sortish" buckets. Residues/s counts
real (unpadded) residues, as the training log does.

Models (sizes from config/config.yaml through ``protrnn.config.model_spec``):
  dcrnn        models.cnn_bigru at the gpu preset's ``full`` size (DCRNN dimensions: embed 50,
               kernels 3/7/11 x 64, 3 biGRU x 300, fc 300/300); batch size and optimizer settings
               from the gpu preset.
  small_bigru  models.bigru at the cpu preset's size (2 biGRU x 128); settings from the cpu preset.

Baseline, timed in the same process on the same batches: a plain PyTorch model of the same
parameter count: one ``torch.nn.GRU(bidirectional=True)`` stack over ``pack_padded_sequence`` of
each batch sorted by decreasing length (``enforce_sorted=True``), plain cross-entropy with
``ignore_index`` on the padded targets, same AdamW / clipping; for dcrnn the same embedding + conv
front end and fc layers around it. Both read their batches through protrnn's ``collate``, so the
ratio compares models + loss, not data loading. protrnn and baseline alternate (``--rounds``) so
that drift of a noisy machine hits both; the ratio protrnn / baseline is the number to report.

Data: by default synthetic proteins (random residues, profiles and labels) whose lengths follow
the NetSurfP-2.0 training set (10,792 chains, mean 256, max 1,632; quantiles stored below); with
``--encoded`` the proteins (split 'train', real features) of an encoded npz.

Precision: protrnn.model.train autocasts on CUDA itself (preset ``amp``, default on). On CUDA this
benchmark wraps forward + loss of both implementations in ``torch.autocast(dtype=bfloat16)``
(``--no-autocast`` for float32); on CPU it always runs float32. Caveat (from PyTorch's source,
aten/src/ATen/cudnn/AutocastRNN.cpp, not checked on a GPU here): autocast's cuDNN RNN wrapper casts
GRU inputs and weights to float16 whatever the autocast dtype, so under "bf16 autocast" the
convolutions and linear layers run in bfloat16 and the GRUs in float16.

Output: a markdown table plus the machine, for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from protrnn.config import load_config, model_spec
from protrnn.core.alphabet import N_AA, N_AA_TOKENS, SS3, SS8
from protrnn.encode import EncodedSet, load_encoded
from protrnn.model.batching import collate, make_batches
from protrnn.model.train import PRESET_DEFAULTS, train_step
from protrnn.model.zoo import build_model, count_parameters

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"

#: Benchmark model -> (config model, preset whose size, batch size and optimizer it uses).
MODELS = {"dcrnn": ("cnn_bigru", "gpu"), "small_bigru": ("bigru", "cpu")}

#: Chain-length quantiles of NetSurfP-2.0's Train_HHblits.csv (10,792 chains, 2,760,553 residues,
#: mean 255.8): (percent, length). Synthetic lengths are drawn by inverse-CDF interpolation.
NETSURFP2_TRAIN_LENGTH_QUANTILES = tuple(
    zip(
        [2.5 * i for i in range(40)] + [99.0, 99.5, 99.9, 100.0],
        [20, 53, 74, 87, 97, 105, 114, 121, 128, 135, 142, 148, 154, 162, 169, 177, 184, 193, 201]
        + [210, 218, 229, 239, 250, 259, 269, 281, 293, 305, 318, 333, 346, 362, 379, 399, 424]
        + [453, 495, 549, 669, 809, 955, 1229, 1632],
        strict=True,
    )
)


# ---------------------------------------------------------------- data
def sample_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` chain lengths drawn from the NetSurfP-2.0 train length distribution."""
    percents, lengths = zip(*NETSURFP2_TRAIN_LENGTH_QUANTILES, strict=True)
    return np.rint(np.interp(rng.uniform(0.0, 100.0, n), percents, lengths)).astype(np.int32)


def synthetic_set(lengths: np.ndarray, rng: np.random.Generator) -> EncodedSet:
    """An EncodedSet of random proteins with the given lengths (all 'train', all evaluated)."""
    n, total = len(lengths), int(lengths.sum())
    offsets = np.zeros(n, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths, dtype=np.int64)[:-1]
    return EncodedSet(
        ids=np.array([f"synthetic{i}" for i in range(n)]),
        split=np.full(n, "train"),
        lengths=lengths.astype(np.int32),
        offsets=offsets,
        label=np.full(n, np.nan, dtype=np.float32),
        aa=rng.integers(0, N_AA_TOKENS, total, dtype=np.uint8),
        pssm=rng.random((total, N_AA), dtype=np.float32).astype(np.float16),
        ss8=rng.integers(0, len(SS8), total, dtype=np.int8),
        ss3=rng.integers(0, len(SS3), total, dtype=np.int8),
        eval_mask=np.ones(total, dtype=np.uint8),
        cb513_mask=np.zeros(total, dtype=np.uint8),
    )


def benchmark_set(
    encoded: Path | None, n: int, max_length: int | None, rng: np.random.Generator
) -> EncodedSet:
    """Synthetic proteins (``n``), or the 'train' proteins of ``encoded``; at most ``max_length``
    residues each (synthetic lengths are capped, real proteins above it are left out)."""
    if encoded is None:
        lengths = sample_lengths(n, rng)
        if max_length:
            lengths = np.minimum(lengths, max_length)
        return synthetic_set(lengths, rng)
    data = load_encoded(encoded)
    if (data.split == "train").any():
        data = data.subset("train")
    if max_length:
        data = data.select(np.flatnonzero(data.lengths <= max_length))
    if len(data) == 0:
        raise SystemExit(f"error: no proteins to benchmark in {encoded}")
    return data


# ---------------------------------------------------------------- baseline models
class PlainHeads(nn.Module):
    def __init__(self, n_in: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ss8 = nn.Linear(n_in, len(SS8))
        self.ss3 = nn.Linear(n_in, len(SS3))

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(h)
        return {"ss8": self.ss8(h), "ss3": self.ss3(h)}


def packed_gru(gru: nn.GRU, x: torch.Tensor, lengths_cpu: torch.Tensor) -> torch.Tensor:
    """Run ``gru`` over a batch sorted by decreasing length; padded output (B x T x 2H)."""
    packed = pack_padded_sequence(x, lengths_cpu, batch_first=True, enforce_sorted=True)
    out, _ = pad_packed_sequence(gru(packed)[0], batch_first=True, total_length=x.shape[1])
    return out


class PlainBiGRU(nn.Module):
    """nn.GRU(bidirectional) on packed sequences -> dropout -> heads (protrnn's ``rnn`` type)."""

    def __init__(self, n_features: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.gru = nn.GRU(
            n_features, hidden, layers, batch_first=True, bidirectional=True, dropout=dropout
        )
        self.heads = PlainHeads(2 * hidden, dropout)

    def forward(self, x: torch.Tensor, lengths_cpu: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(packed_gru(self.gru, x, lengths_cpu))


class PlainCNNBiGRU(nn.Module):
    """DCRNN cascade written plainly: embed ++ profile -> convs -> packed nn.GRU -> fc -> heads.

    Inputs are zero-padded and the embedding has no bias, so the convolutions see zeros at padding
    without explicit masking."""

    def __init__(
        self,
        n_features: int,
        embed: int,
        kernels: list[int],
        filters: int,
        hidden: int,
        layers: int,
        fc: list[int],
        dropout: float,
    ) -> None:
        super().__init__()
        self.embed = nn.Linear(N_AA_TOKENS, embed, bias=False)
        n_local = embed + n_features - N_AA_TOKENS
        self.convs = nn.ModuleList(nn.Conv1d(n_local, filters, k, padding=k // 2) for k in kernels)
        n_conv = filters * len(kernels)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(
            n_local + n_conv, hidden, layers, batch_first=True, bidirectional=True, dropout=0.0
        )
        dense, n_in = [], 2 * hidden + n_conv
        for width in fc:
            dense += [nn.Dropout(dropout), nn.Linear(n_in, width), nn.ReLU()]
            n_in = width
        self.fc = nn.Sequential(*dense)
        self.heads = PlainHeads(n_in, dropout)

    def forward(self, x: torch.Tensor, lengths_cpu: torch.Tensor) -> dict[str, torch.Tensor]:
        local = torch.cat([self.embed(x[..., :N_AA_TOKENS]), x[..., N_AA_TOKENS:]], dim=-1)
        h = local.transpose(1, 2)
        conv = torch.cat([torch.relu(c(h)) for c in self.convs], dim=1).transpose(1, 2)
        h = packed_gru(self.gru, self.dropout(torch.cat([conv, local], dim=-1)), lengths_cpu)
        return self.heads(self.fc(torch.cat([h, conv], dim=-1)))


def build_baseline(spec: dict, n_features: int) -> nn.Module:
    """The plain counterpart of a protrnn ``rnn`` (bidirectional GRU) or ``cnn_rnn`` spec."""
    kw = {k: v for k, v in spec.items() if k != "type"}
    if spec["type"] == "rnn":
        if kw.get("cell", "gru") != "gru" or not kw.get("bidirectional", True):
            raise ValueError("the baseline covers bidirectional GRU models only")
        return PlainBiGRU(n_features, kw["hidden"], kw["layers"], kw["dropout"])
    if spec["type"] == "cnn_rnn":
        return PlainCNNBiGRU(n_features, **kw)
    raise ValueError(f"no baseline for model type {spec['type']!r}")


# ---------------------------------------------------------------- one training step each
def autocast_context(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    if device.type == "cuda" and enabled:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def protrnn_step(model, optimizer, data, idx, device, weights, clip, autocast) -> float:
    """protrnn.model.train.train's inner loop body; returns the seconds spent in ``collate``."""
    t0 = time.perf_counter()
    batch = collate(data, idx, device)
    t_collate = time.perf_counter() - t0
    train_step(model, optimizer, batch, weights, clip, lambda: autocast_context(device, autocast))
    return t_collate


def baseline_step(model, optimizer, data, idx, device, weights, clip, autocast) -> float:
    """A plain loop: batch sorted by decreasing length, packed GRU, ignore_index cross-entropy."""
    t0 = time.perf_counter()
    idx = idx[np.argsort(-data.lengths[idx], kind="stable")]
    batch = collate(data, idx, device)
    lengths_cpu = torch.from_numpy(data.lengths[idx].astype(np.int64))
    t_collate = time.perf_counter() - t0
    with autocast_context(device, autocast):
        out = model(batch["x"], lengths_cpu)
        loss = 0.0
        for task, w in weights.items():
            target = torch.where(batch["mask"], batch[task], -1)
            loss = loss + w * F.cross_entropy(
                out[task].flatten(0, 1), target.flatten(), ignore_index=-1
            )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    float(loss.detach())
    return t_collate


def timed(
    step: Callable[..., float], batches: list[np.ndarray], data: EncodedSet, device: torch.device
) -> tuple[float, float, int]:
    """Run ``step`` over ``batches``: (seconds, seconds in collate, real residues)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    t_collate = sum(step(idx) for idx in batches)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    residues = sum(int(data.lengths[idx].sum()) for idx in batches)
    return time.perf_counter() - t0, t_collate, residues


# ---------------------------------------------------------------- one model
def bench_model(name: str, config: dict, data: EncodedSet, args, device: torch.device) -> dict:
    config_model, preset_name = MODELS[name]
    config["train"]["preset"] = preset_name
    spec = model_spec(config, config_model)
    preset = {**PRESET_DEFAULTS, **config["presets"][preset_name]}
    weights = {**PRESET_DEFAULTS["loss_weights"], **(preset["loss_weights"] or {})}
    weights = {k: v for k, v in weights.items() if k in ("ss8", "ss3")}  # the heads compared
    batch_size = args.batch_size or int(preset["batch_size"])
    max_residues = args.max_residues or preset["max_residues_per_batch"]
    clip = float(preset["clip"] or 0.0)

    rng = np.random.default_rng([args.seed, 1])
    batches = make_batches(data.lengths, batch_size, max_residues, rng)
    need = args.warmup + args.steps
    while len(batches) < need:  # small data: another shuffled pass, as another epoch would be
        batches += make_batches(data.lengths, batch_size, max_residues, rng)
    warm, steps = batches[: args.warmup], batches[args.warmup : need]

    impls = {}
    for kind, build, step_fn in (
        ("protrnn", lambda: build_model(spec, data.n_features), protrnn_step),
        ("baseline", lambda: build_baseline(spec, data.n_features), baseline_step),
    ):
        torch.manual_seed(args.seed)
        model = build().to(device).train()
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=float(preset["lr"]), weight_decay=float(preset["weight_decay"])
        )

        def step(idx, model=model, optimizer=optimizer, step_fn=step_fn):
            return step_fn(model, optimizer, data, idx, device, weights, clip, args.autocast)

        impls[kind] = {"step": step, "params": count_parameters(model), "model": model}
        timed(step, warm, data, device)

    totals = {kind: [0.0, 0.0, 0] for kind in impls}
    for r in range(args.rounds):  # alternate the order so drift hits both
        for kind in ("protrnn", "baseline") if r % 2 == 0 else ("baseline", "protrnn"):
            seconds, t_collate, residues = timed(impls[kind]["step"], steps, data, device)
            for i, v in enumerate((seconds, t_collate, residues)):
                totals[kind][i] += v

    padded = sum(len(idx) * int(data.lengths[idx].max()) for idx in steps)
    real = sum(int(data.lengths[idx].sum()) for idx in steps)
    rate = {kind: totals[kind][2] / totals[kind][0] for kind in impls}
    row = {
        "model": name,
        "spec": spec,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "batch": batch_size if not max_residues else f"{batch_size} / {max_residues} res",
        "protrnn": rate["protrnn"],
        "baseline": rate["baseline"],
        "ratio": rate["protrnn"] / rate["baseline"],
        "params": impls["protrnn"]["params"],
        "baseline_params": impls["baseline"]["params"],
        "collate_share": totals["protrnn"][1] / totals["protrnn"][0],
        "steps": len(steps),
        "mean_length": real / sum(len(idx) for idx in steps),
        "padding": 1.0 - real / padded,
    }
    del impls
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row


# ---------------------------------------------------------------- report
def machine_lines(device: torch.device, autocast: bool) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        f"- CPU: {cpu} ({os.cpu_count()} logical CPUs visible)",
        f"- torch {torch.__version__}, Python {platform.python_version()}, {platform.system()}",
    ]
    if device.type == "cuda":
        lines.append(
            f"- GPU: {torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}); "
            + ("bf16 autocast (GRUs: fp16 via cuDNN)" if autocast else "float32, no autocast")
        )
    else:
        lines.append("- GPU: none used (float32)")
    return lines


def markdown(rows: list[dict], machine: list[str], data_note: str) -> str:
    out = [
        "| model | device | threads | batch | residues/s protrnn | residues/s baseline | ratio |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['model']} | {r['device']} | {r['threads']} | {r['batch']} | "
            f"{r['protrnn']:,.0f} | {r['baseline']:,.0f} | {r['ratio']:.2f} |"
        )
    out += ["", *machine, f"- data: {data_note}"]
    for r in rows:
        out.append(
            f"- {r['model']}: {r['params']:,} parameters (baseline {r['baseline_params']:,}); "
            f"{r['steps']} timed steps per round, mean length {r['mean_length']:.0f}, "
            f"padding {100 * r['padding']:.0f}% of batch cells; collate "
            f"{100 * r['collate_share']:.0f}% of protrnn's step time"
        )
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--batch-size", type=int, default=None, help="default: the model's preset's")
    p.add_argument("--max-residues", type=int, default=None, help="padded residues per batch")
    p.add_argument("--steps", type=int, default=10, help="timed steps per round and impl")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per implementation")
    p.add_argument("--rounds", type=int, default=2, help="alternating protrnn/baseline rounds")
    p.add_argument(
        "--models", default="dcrnn,small_bigru", help="comma list of " + ",".join(MODELS)
    )
    p.add_argument("--encoded", type=Path, default=None, help="encoded npz: real lengths, features")
    p.add_argument(
        "--proteins", type=int, default=None, help="synthetic proteins (default: enough)"
    )
    p.add_argument("--max-length", type=int, default=None, help="cap on protein length")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--no-autocast", dest="autocast", action="store_false", help="CUDA: float32, not bf16"
    )
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown or not args.models:
        p.error(f"--models: unknown {unknown}; choose from {sorted(MODELS)}")
    for key in ("steps", "rounds"):
        if getattr(args, key) < 1:
            p.error(f"--{key} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark, print the markdown report, return its rows."""
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit(
            f"error: --device cuda asked, but CUDA is not available here (torch {torch.__version__}"
            f", built for CUDA {torch.version.cuda}); use --device cpu"
        )
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = load_config(args.config)
    # synthetic: enough proteins for full 50-batch sortish pools, as in real training
    biggest = max(args.batch_size or config["presets"][MODELS[m][1]]["batch_size"] for m in MODELS)
    n = args.proteins or max(50 * biggest, 2 * biggest * (args.warmup + args.steps))
    data = benchmark_set(args.encoded, n, args.max_length, np.random.default_rng(args.seed))
    data_note = (
        f"{len(data)} proteins of {args.encoded} (split train)"
        if args.encoded
        else f"{len(data)} synthetic proteins, lengths from the NetSurfP-2.0 train distribution"
        + (f" capped at {args.max_length}" if args.max_length else "")
    ) + f", mean length {data.lengths.mean():.0f}"
    rows = [bench_model(name, config, data, args, device) for name in args.models]
    print(markdown(rows, machine_lines(device, args.autocast), data_note))
    sys.stdout.flush()
    return rows


if __name__ == "__main__":
    main()
