"""Training: masked loss, length buckets, bf16 autocast switch, overfitting, outputs + resume,
determinism, prediction."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from protrnn.core.alphabet import AMINO_ACIDS, SS3, SS8, SS8_TO_SS3, sequence_hash
from protrnn.encode import encode_dataset, encoding_spec, load_encoded
from protrnn.model.batching import (
    DEFAULT_BUCKETS,
    bucket_length,
    collate,
    make_batches,
    resolve_buckets,
)
from protrnn.model.checkpoint import TrainState, read_model_provenance
from protrnn.model.device import autocast
from protrnn.model.inference import load_model, predict_proba
from protrnn.model.loss import evaluate, masked_loss
from protrnn.model.train import EarlyStopping, train, train_step, warm_epochs
from protrnn.model.zoo import build_model

TINY_RNN = {"type": "rnn", "cell": "gru", "hidden": 16, "layers": 1, "dropout": 0.0}
PRESET = {
    "epochs": 2,
    "batch_size": 4,
    "lr": 0.01,
    "lr_decay": 0.7,
    "weight_decay": 0.0,
    "patience": 10,
    "clip": 1.0,
    "threads": 1,
    "loss_weights": {"ss8": 1.0, "ss3": 1.0},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _synthetic(path: Path, n: int, seed: int = 0, splits: list[str] | None = None) -> Path:
    """Encoded dataset whose ss8 label is a function of the residue and its left neighbour."""
    rng = np.random.default_rng(seed)
    rows, profiles = [], {}
    for i in range(n):
        length = int(rng.integers(15, 40))
        aa = rng.integers(0, 20, length)
        seq = "".join(AMINO_ACIDS[a] for a in aa)
        left = np.concatenate([[0], aa[:-1]])
        ss8 = "".join(SS8[(a + b) % 8] for a, b in zip(aa, left, strict=True))
        mask = "".join("0" if rng.random() < 0.1 else "1" for _ in range(length))
        rows.append(
            {
                "id": f"prot{i}",
                "sequence": seq,
                "ss8": ss8,
                "ss3": "".join(SS8_TO_SS3[c] for c in ss8),
                "eval_mask": mask,
                "cb513_mask": "",
                "split": splits[i] if splits else "train",
                "label": "",
                "membrane": "",
                "rsa": "",
            }
        )
        profiles[sequence_hash(seq)] = rng.normal(0, 2, (length, 20))
    encode_dataset(pd.DataFrame(rows), profiles, path)
    return path


def test_masked_loss_ignores_padding_and_masked_residues(tmp_path: Path) -> None:
    enc = load_encoded(_synthetic(tmp_path / "d.npz", 4))
    batch = collate(enc, np.arange(4), torch.device("cpu"))
    torch.manual_seed(0)
    out = build_model(TINY_RNN)(batch["x"], batch["lengths"])
    weights = {"ss8": 1.0, "ss3": 0.5}
    before = masked_loss(out, batch, weights)
    changed = {k: v.clone() for k, v in batch.items()}
    not_counted = ~batch["mask"]  # padding and eval_mask == 0
    assert not_counted.any()
    changed["ss8"][not_counted] = 5
    changed["ss3"][not_counted] = 2
    assert torch.equal(masked_loss(out, changed, weights), before)
    changed["ss8"][batch["mask"]] = (batch["ss8"][batch["mask"]] + 1) % 8
    assert not torch.equal(masked_loss(out, changed, weights), before)


def test_batches_respect_residue_budget() -> None:
    lengths = np.array([5, 50, 7, 48, 6, 30, 31, 8])
    batches = make_batches(lengths, batch_size=3, max_residues=100, rng=np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(8))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or lengths[b].max() * len(b) <= 100


def test_bucket_lengths() -> None:
    buckets = (64, 128, 256, 512, 1024)
    assert [bucket_length(n, buckets) for n in (1, 64, 65, 300, 1024)] == [64, 64, 128, 512, 1024]
    assert [bucket_length(n, buckets) for n in (1025, 2048, 2049)] == [2048, 2048, 3072]
    assert bucket_length(77) == 77
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_buckets("auto", cuda) == DEFAULT_BUCKETS == buckets
    assert resolve_buckets("auto", cpu) == ()  # the CPU RNN runs over padding: no buckets
    assert resolve_buckets([100, 50, 100], cpu) == (50, 100)
    assert resolve_buckets(None, cuda) == () and resolve_buckets([], cuda) == ()
    with pytest.raises(ValueError, match="buckets"):
        resolve_buckets("powers", cpu)
    with pytest.raises(ValueError, match="positive"):
        resolve_buckets([0, 64], cpu)


def test_batches_are_padded_to_buckets(tmp_path: Path) -> None:
    enc = load_encoded(_synthetic(tmp_path / "d.npz", 6))  # lengths 15..39
    batch = collate(enc, np.arange(6), torch.device("cpu"), (16, 32, 48))
    assert batch["x"].shape == (6, 48, 41) and batch["ss8"].shape == (6, 48)
    assert not batch["mask"][:, 40:].any()
    # the residue budget counts bucket-padded residues
    lengths = np.array([30, 31, 33, 34])
    assert len(make_batches(lengths, 4, max_residues=140)) == 1
    bucketed = make_batches(lengths, 4, max_residues=140, buckets=(32, 64))
    assert [b.tolist() for b in bucketed] == [[0, 1], [2, 3]]  # 2 x 32, then 2 x 64 residues


def test_autocast_only_on_cuda() -> None:
    assert isinstance(autocast(torch.device("cpu"), True), contextlib.nullcontext)
    assert isinstance(autocast(torch.device("cuda"), False), contextlib.nullcontext)
    with warnings.catch_warnings():  # no CUDA here: torch warns that it disables autocast
        warnings.simplefilter("ignore")
        ctx = autocast(torch.device("cuda"), True)
    assert isinstance(ctx, torch.autocast)
    assert ctx.device == "cuda" and ctx.fast_dtype == torch.bfloat16


def test_train_step_with_grad_scaler_matches_plain_step(tmp_path: Path) -> None:
    """The GradScaler path (used with autocast on CUDA) takes the same step as the plain one."""
    enc = load_encoded(_synthetic(tmp_path / "d.npz", 4))
    batch = collate(enc, np.arange(4), torch.device("cpu"))
    params = []
    for scaler in (None, torch.amp.GradScaler("cpu", init_scale=2.0**10)):
        torch.manual_seed(0)
        model = build_model(TINY_RNN)
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)
        train_step(model, opt, batch, {"ss8": 1.0, "ss3": 1.0}, 0.5, scaler=scaler)
        params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.allclose(params[0], params[1], atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "rnn", "cell": "gru", "hidden": 64, "layers": 1, "dropout": 0.0},
        {
            "type": "cnn_rnn",
            "embed": 8,
            "kernels": [3],
            "filters": 16,
            "hidden": 16,
            "layers": 1,
            "fc": [32],
            "dropout": 0.0,
        },
    ],
    ids=["bigru", "cnn_bigru"],
)
def test_tiny_model_overfits(tmp_path: Path, spec: dict) -> None:
    torch.manual_seed(0)
    enc = load_encoded(_synthetic(tmp_path / "d.npz", 8))
    model = build_model(spec)
    opt = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.0)
    batch = collate(enc, np.arange(8), torch.device("cpu"))
    weights = {"ss8": 1.0, "ss3": 1.0}
    for step in range(300):
        model.train()
        loss = masked_loss(model(batch["x"], batch["lengths"]), batch, weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 24 and evaluate(model, enc, torch.device("cpu"), weights, 8)["q8"] > 97:
            break
    metrics = evaluate(model, enc, torch.device("cpu"), weights, 8)
    assert metrics["q8"] > 95 and metrics["q3"] > 95, metrics


def test_train_outputs_and_resume(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 16, splits=["train"] * 12 + ["valid"] * 4)
    out = tmp_path / "model"
    logs: list[str] = []
    summary = train(TINY_RNN, PRESET, data, out, seed=3, log=logs.append)
    assert summary["epochs_run"] == 2 and summary["residues_per_s"] > 0
    assert (out / "model.pt").is_file() and (out / "checkpoints" / "last.pt").is_file()
    history = pd.read_csv(out / "history.tsv", sep="\t")
    assert list(history.columns) == [
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_q8",
        "valid_q3",
        "seconds",
    ]
    assert history["epoch"].tolist() == [1, 2]
    assert any(line.startswith("epoch 2") for line in logs)
    assert not any(line.startswith("resuming") for line in logs)

    # a run stopped after epoch 2 of 4 resumes and ends as the uninterrupted run
    stopped = tmp_path / "stopped"
    with pytest.raises(_Stop):
        train(TINY_RNN, {**PRESET, "epochs": 4}, data, stopped, seed=3, log=_stop_after_epoch(2))
    assert not (stopped / "model.pt").exists()
    logs.clear()
    summary = train(TINY_RNN, {**PRESET, "epochs": 4}, data, stopped, seed=3, log=logs.append)
    history2 = pd.read_csv(stopped / "history.tsv", sep="\t")
    assert history2["epoch"].tolist() == [1, 2, 3, 4] and summary["epochs_run"] == 4
    assert any("resuming" in line for line in logs)
    assert not any(line.startswith(("epoch 1:", "epoch 2:")) for line in logs)

    # resuming gives the same model as training 4 epochs in one go
    out_once = tmp_path / "once"
    train(TINY_RNN, {**PRESET, "epochs": 4}, data, out_once, seed=3, log=lambda s: None)
    pd.testing.assert_frame_equal(
        history2.drop(columns="seconds"),
        pd.read_csv(out_once / "history.tsv", sep="\t").drop(columns="seconds"),
    )
    for name in ("checkpoints/last.pt", "model.pt"):
        once = torch.load(out_once / name, weights_only=True)["state_dict"]
        resumed = torch.load(stopped / name, weights_only=True)["state_dict"]
        for k in once:
            assert torch.equal(once[k], resumed[k]), (name, k)


class _Stop(Exception):
    """Raised by :func:`_stop_after_epoch`'s log: the run stops as if killed."""


def _stop_after_epoch(epoch: int):
    """A log function that stops training once ``epoch`` is checkpointed (its line is logged)."""

    def log(line: str) -> None:
        if line.startswith(f"epoch {epoch}:"):
            raise _Stop

    return log


def _weights(path: Path) -> dict:
    return torch.load(path, weights_only=True)["state_dict"]


def _assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_fewer_epochs_trains_afresh_instead_of_resuming(tmp_path: Path) -> None:
    """Issue 12, silent result 1: 2 epochs, then epochs 1 on the same folder. The old code
    resumed ("after epoch 2", 0 epochs run) and wrote the 2-epoch model as the new one."""
    data = _synthetic(tmp_path / "d.npz", 16, splits=["train"] * 12 + ["valid"] * 4)
    out = tmp_path / "model"
    train(TINY_RNN, PRESET, data, out, seed=3, log=lambda s: None)
    logs: list[str] = []
    summary = train(TINY_RNN, {**PRESET, "epochs": 1}, data, out, seed=3, log=logs.append)
    assert summary["epochs_run"] == 1
    assert not any(line.startswith("resuming") for line in logs)
    why = [line for line in logs if line.startswith("not resuming")]
    assert len(why) == 1 and "preset (epochs) differ" in why[0] and "last.pt" in why[0], logs
    assert pd.read_csv(out / "history.tsv", sep="\t")["epoch"].tolist() == [1]
    fresh = tmp_path / "fresh"
    train(TINY_RNN, {**PRESET, "epochs": 1}, data, fresh, seed=3, log=lambda s: None)
    _assert_same_weights(out / "model.pt", fresh / "model.pt")


@pytest.mark.parametrize("change", ["data", "max_train_proteins", "model_spec", "seed", "preset"])
def test_changed_inputs_train_afresh(tmp_path: Path, change: str) -> None:
    """A checkpoint of other inputs is never resumed: the rerun trains afresh (as a run in an
    empty folder would) and one log line names what differs."""
    first = _synthetic(tmp_path / "first.npz", 16)
    inputs = {"spec": TINY_RNN, "preset": PRESET, "data": first, "seed": 3}
    out = tmp_path / "model"
    train(inputs["spec"], inputs["preset"], first, out, seed=3, log=lambda s: None)
    expected = {
        "data": (
            _synthetic(tmp_path / "other.npz", 16, seed=1),
            "training/validation data (train, valid)",
        ),
        # the first 12 proteins of the same set, as a smaller max_train_proteins selects
        "max_train_proteins": (
            _synthetic(tmp_path / "sub.npz", 12),
            "training/validation data (train, valid)",
        ),
        "model_spec": ({**TINY_RNN, "hidden": 8}, "model spec (hidden)"),
        "seed": (4, "seed"),
        "preset": ({**PRESET, "lr": 0.02}, "preset (lr)"),
    }
    value, named = expected[change]
    inputs[{"model_spec": "spec", "max_train_proteins": "data"}.get(change, change)] = value
    logs: list[str] = []
    run = (inputs["spec"], inputs["preset"], inputs["data"])
    train(*run, out, seed=inputs["seed"], log=logs.append)
    why = [line for line in logs if line.startswith("not resuming")]
    assert len(why) == 1 and f"{named} differ" in why[0], logs
    assert not any(line.startswith("resuming") for line in logs)
    fresh = tmp_path / "fresh"
    train(*run, fresh, seed=inputs["seed"], log=lambda s: None)
    _assert_same_weights(out / "model.pt", fresh / "model.pt")
    _assert_same_weights(out / "checkpoints" / "last.pt", fresh / "checkpoints" / "last.pt")


def test_checkpoint_without_fingerprint_is_not_resumed(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 16)
    out = tmp_path / "model"
    with pytest.raises(_Stop):
        train(TINY_RNN, PRESET, data, out, seed=3, log=_stop_after_epoch(1))
    ckpt_path = out / "checkpoints" / "last.pt"
    ckpt = torch.load(ckpt_path, weights_only=True)
    del ckpt["fingerprint"], ckpt["fingerprint_parts"]  # as an older protrnn wrote it
    torch.save(ckpt, ckpt_path)
    logs: list[str] = []
    summary = train(TINY_RNN, PRESET, data, out, seed=3, log=logs.append)
    assert summary["epochs_run"] == 2 and any(line.startswith("epoch 1:") for line in logs)
    assert any("no input fingerprint" in line and "training afresh" in line for line in logs)


def test_model_file_carries_provenance(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 16)
    train(TINY_RNN, PRESET, data, tmp_path / "m", seed=3, log=lambda s: None)
    provenance = read_model_provenance(tmp_path / "m" / "model.pt")
    assert provenance["encoding"] == encoding_spec()
    assert provenance["profiles"] is None  # the synthetic set was encoded without shards
    ckpt = torch.load(tmp_path / "m" / "checkpoints" / "last.pt", weights_only=True)
    assert provenance["training_fingerprint"] == ckpt["fingerprint"]
    assert set(provenance["training_data"]) == {"train", "valid"}
    # a model file written before provenance existed
    saved = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    del saved["provenance"]
    torch.save(saved, tmp_path / "old.pt")
    assert read_model_provenance(tmp_path / "old.pt") is None
    assert load_model(tmp_path / "old.pt", "cpu") is not None


def test_determinism_and_prediction(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 12)  # no 'valid' proteins: a fixed 10% is carved
    spec = {
        "type": "cnn_rnn",
        "embed": 4,
        "kernels": [3, 5],
        "filters": 4,
        "hidden": 8,
        "layers": 1,
        "fc": [8],
        "dropout": 0.3,
    }
    # amp is ignored on CPU: float32 either way
    a = train(spec, {**PRESET, "amp": True}, data, tmp_path / "a", seed=7, log=lambda s: None)
    b = train(spec, {**PRESET, "amp": False}, data, tmp_path / "b", seed=7, log=lambda s: None)
    assert a["valid_q8"] == b["valid_q8"]
    wa = torch.load(tmp_path / "a" / "model.pt", weights_only=True)
    wb = torch.load(tmp_path / "b" / "model.pt", weights_only=True)
    assert wa["features"] == 41 and wa["spec"] == spec
    for k in wa["state_dict"]:
        assert torch.equal(wa["state_dict"][k], wb["state_dict"][k]), k

    model = load_model(tmp_path / "a" / "model.pt", "cpu")
    enc = load_encoded(data)
    probs = predict_proba(model, enc, "cpu", batch_size=5)
    assert len(probs) == len(enc)
    for i, p in enumerate(probs):
        assert p["ss8"].shape == (enc.lengths[i], len(SS8))
        assert p["ss3"].shape == (enc.lengths[i], len(SS3))
        assert np.allclose(p["ss8"].sum(1), 1.0, atol=1e-5)
    alone = predict_proba(model, enc.select([3]), "cpu")[0]
    assert np.allclose(alone["ss8"], probs[3]["ss8"], atol=1e-5)
    assert np.isnan(alone["rsa"]).all() and alone["rsa"].shape == (enc.lengths[3],)  # no RSA head
    bucketed = predict_proba(model, enc, "cpu", batch_size=5, buckets=[8, 16, 32])
    for p, q in zip(probs, bucketed, strict=True):
        for head in ("ss8", "ss3"):
            assert p[head].shape == q[head].shape
            assert np.abs(p[head] - q[head]).max() < 1e-5


def _schedule(**preset: object) -> object:
    from protrnn.model.train import PRESET_DEFAULTS, settings

    cfg = {**PRESET_DEFAULTS, "epochs": 4, "lr": 0.01, **preset}
    return settings(cfg, torch.device("cpu"), "per_residue")


def test_exp_schedule_is_constant_within_an_epoch() -> None:
    s = _schedule(lr_decay=0.5)
    assert [s.lr_at(e, f) for e in (1, 2, 3) for f in (0.0, 0.9)] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]
    )


def test_cosine_and_onecycle_schedules_warm_up_then_anneal() -> None:
    cosine = _schedule(lr_schedule="cosine", warmup=0.25)
    assert cosine.lr_at(1, 0.0) == 0.0
    assert cosine.lr_at(1, 0.5) == pytest.approx(0.005)  # half-way through the warm-up
    assert cosine.lr_at(2, 0.0) == pytest.approx(0.01)  # peak at the end of the warm-up
    assert cosine.lr_at(3, 0.0) == pytest.approx(0.01 * 0.5 * (1 + np.cos(np.pi / 3)))
    assert cosine.lr_at(4, 0.999) < 1e-5
    onecycle = _schedule(lr_schedule="onecycle", warmup=0.25)
    assert onecycle.lr_at(1, 0.0) == pytest.approx(0.01 / 25)
    assert onecycle.lr_at(4, 0.999999) == pytest.approx(0.01 / 1e4, rel=1e-2)
    rates = [onecycle.lr_at(e, f / 10) for e in range(1, 5) for f in range(10)]
    peak = int(np.argmax(rates))
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)


def test_model_cap_keeps_the_proteins_the_dataset_cap_keeps(tmp_path: Path) -> None:
    """A model's ``max_train_proteins`` (the CPU preset's baselines) trains on exactly the
    proteins that parse_dataset's cap of the same size keeps, test proteins dropped."""
    from protrnn.data.table import cap_training
    from protrnn.model.train import cap_training_set

    splits = ["train", "valid", "test", "train"] * 10
    data = load_encoded(_synthetic(tmp_path / "d.npz", 40, splits=splits))
    table = pd.DataFrame({"id": data.ids, "split": data.split})
    for cap in (7, 25):
        expected = cap_training(table, cap, seed=3)
        expected = expected[expected["split"] != "test"]["id"].tolist()
        kept = cap_training_set(data, cap, seed=3)
        assert kept.ids.tolist() == expected and len(kept) == cap
    assert cap_training_set(data, None, seed=3) is data
    assert len(cap_training_set(data, 1000, seed=3)) == 30  # all train + valid proteins


def test_preset_cap_changes_what_trains(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 16)
    logs: list[str] = []
    train(
        TINY_RNN,
        {**PRESET, "epochs": 1, "max_train_proteins": 8},
        data,
        tmp_path / "m",
        3,
        log=logs.append,
    )
    assert any("on cpu, 7 train / 1 valid proteins" in line for line in logs), logs


def _stopped_at(curve: list[float], patience: int, warm: int) -> int | None:
    """The epoch at which :class:`EarlyStopping` stops on validation accuracies ``curve``."""
    stopping = EarlyStopping("accuracy", patience, warm)
    state, model = TrainState(), torch.nn.Linear(1, 1)
    for epoch, value in enumerate(curve, 1):
        stopping.update(state, epoch, {"loss": 0.0, "accuracy": value}, model)
        if state.stopped:
            return epoch
    return None


def test_early_stopping_waits_for_the_warm_up_to_end() -> None:
    flat_then_learning = [28.0, 28.0, 24.7, 28.0, 28.0, 40.0, 45.0]
    assert _stopped_at(flat_then_learning, patience=3, warm=0) == 4  # counted from epoch 1
    assert _stopped_at(flat_then_learning, patience=3, warm=2) == 5  # from the warm-up's end
    assert _stopped_at(flat_then_learning, patience=3, warm=3) is None
    # after the warm-up, patience counts from the best epoch as before
    assert _stopped_at([30.0, 50.0, 60.0, 59.0, 58.0, 57.0], patience=3, warm=2) == 6


def test_warm_epochs_is_the_epoch_in_which_the_warm_up_ends() -> None:
    def s(schedule: str, warmup: float, epochs: int) -> object:
        return SimpleNamespace(lr_schedule=schedule, warmup=warmup, epochs=epochs)

    assert warm_epochs(s("onecycle", 0.2, 8)) == 2  # 1.6 epochs of warm-up
    assert warm_epochs(s("onecycle", 0.2, 10)) == 2
    assert warm_epochs(s("cosine", 0.0, 8)) == 0
    assert warm_epochs(s("exp", 0.2, 8)) == 0  # exp has no warm-up
