"""bench/train_throughput.py: a tiny CPU run of both models, the baseline's equivalence, errors."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from protrnn.encode import N_FEATURES
from protrnn.model.zoo import build_model, count_parameters

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "train_throughput.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("train_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(autouse=True)
def _keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_tiny_cpu_run_prints_positive_table(bench, capsys):
    rows = bench.main(
        [
            *("--device", "cpu", "--threads", "1", "--warmup", "1", "--steps", "1"),
            *("--rounds", "2", "--batch-size", "2", "--max-length", "24", "--proteins", "12"),
            *("--models", "dcrnn,small_bigru"),
        ]
    )
    out = capsys.readouterr().out
    table = [
        line for line in out.splitlines() if line.startswith("| dcrnn") or "| small_bigru" in line
    ]
    assert [line.split("|")[1].strip() for line in table] == ["dcrnn", "small_bigru"]
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == "cpu" and cells[2] == "1" and cells[3] == "2"
        numbers = [float(c.replace(",", "")) for c in cells[4:7]]
        assert all(v > 0 for v in numbers), line
    assert re.search(r"^- CPU: ", out, re.M) and re.search(r"^- torch ", out, re.M)
    for row in rows:
        assert row["params"] == row["baseline_params"]  # same architecture size
        assert row["protrnn"] > 0 and row["baseline"] > 0
        assert row["ratio"] == pytest.approx(row["protrnn"] / row["baseline"])
    assert rows[0]["spec"]["hidden"] == 300 and rows[0]["spec"]["fc"] == [300, 300]


def test_length_distribution_matches_netsurfp2(bench):
    lengths = bench.sample_lengths(50_000, np.random.default_rng(0))
    assert 245 < lengths.mean() < 265
    assert lengths.min() >= 20 and lengths.max() <= 1632


def _copy_into_baseline(protrnn: torch.nn.Module, plain: torch.nn.Module, rnn) -> None:
    """Load protrnn's weights into the plain model (nn.GRU stack <- per-direction modules)."""
    gru_state = {}
    for i, directions in enumerate(rnn.layers):
        for d, suffix in enumerate(("", "_reverse")):
            for key, value in directions[d].state_dict().items():
                gru_state[key.replace("_l0", f"_l{i}{suffix}")] = value
    plain.gru.load_state_dict(gru_state)
    plain.heads.load_state_dict(protrnn.heads.state_dict())
    if hasattr(plain, "convs"):
        plain.embed.load_state_dict(protrnn.embed.state_dict())
        plain.convs.load_state_dict(protrnn.conv.convs.state_dict())
        plain.fc.load_state_dict(protrnn.fc.state_dict())


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 2, "dropout": 0.1},
        {
            "type": "cnn_rnn",
            "embed": 5,
            "kernels": [3, 5],
            "filters": 4,
            "hidden": 6,
            "layers": 2,
            "fc": [7, 5],
            "dropout": 0.1,
        },
    ],
)
def test_baseline_is_the_same_network(bench, spec):
    torch.manual_seed(0)
    model = build_model(spec, N_FEATURES).eval()
    plain = bench.build_baseline(spec, N_FEATURES).eval()
    assert count_parameters(plain) == count_parameters(model)
    _copy_into_baseline(model, plain, model.rnn)
    lengths = torch.tensor([9, 6, 3])  # sorted by decreasing length, as the baseline needs
    x = torch.rand(3, 9, N_FEATURES)
    x[:, :, :21] = torch.nn.functional.one_hot(torch.randint(0, 21, (3, 9)), 21).float()
    x[torch.arange(9)[None, :] >= lengths[:, None]] = 0.0
    with torch.no_grad():
        ours, theirs = model(x, lengths), plain(x, lengths)
    keep = torch.arange(9)[None, :] < lengths[:, None]
    for task in ("ss8", "ss3"):
        torch.testing.assert_close(ours[task][keep], theirs[task][keep], atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_clear_error(bench):
    with pytest.raises(SystemExit, match="CUDA is not available"):
        bench.main(["--device", "cuda"])


def test_oversubscription_bench_prints_both_settings_and_the_ratio():
    """bench/oversubscription.py: worker subprocesses paced and shared, a table and the ratio."""
    import subprocess

    script = SCRIPT.with_name("oversubscription.py")
    run = subprocess.run(
        [
            sys.executable,
            str(script),
            "--jobs",
            "2",
            "--cores",
            "1",
            "--steps",
            "1",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = re.findall(
        r"^\| (paced \(baseline\)|shared) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", run.stdout, re.M
    )
    assert [(r[0], r[1]) for r in rows] == [("paced (baseline)", "1"), ("shared", "2")]
    assert all(float(r[3]) > 0 for r in rows)
    assert re.search(r"ratio shared / paced: wall [\d.]+, CPU per step [\d.]+", run.stdout)
