"""Models: output shapes, and predictions that do not depend on the rest of the batch (nor on
extra padding up to a bucket length)."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from protrnn.model.zoo import (
    BiRNN,
    build_model,
    count_parameters,
    downsample_max,
    last_states,
    model_task,
)

SPECS = {
    "gru": {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 2, "dropout": 0.1},
    "lstm": {"type": "rnn", "cell": "lstm", "hidden": 8, "layers": 1, "bidirectional": False},
    "rnn": {"type": "rnn", "cell": "rnn", "hidden": 8, "layers": 1},
    "cnn": {"type": "cnn", "kernels": [3, 5], "filters": 6, "layers": 2},
    "cnn_rnn": {
        "type": "cnn_rnn",
        "embed": 5,
        "kernels": [3, 7, 11],
        "filters": 4,
        "hidden": 6,
        "layers": 2,
        "fc": [10, 10],
        "dropout": 0.5,
    },
}
N_CLASSES = 4
#: Per-protein (location / membrane) models.
PROTEIN_SPECS = {
    "rnn_attention": {
        "type": "rnn_attention",
        "hidden": 6,
        "kernels": [1, 3, 5],
        "filters": 3,
        "attention": 5,
        "fc": [7],
        "dropout": 0.3,
    },
    "rnn_attention_decoder": {  # DeepLoc's iterative attention decoder, no conv front end
        "type": "rnn_attention",
        "cell": "gru",
        "hidden": 5,
        "layers": 2,
        "kernels": [],
        "attention": 4,
        "attention_steps": 3,
        "fc": [],
    },
    "cnn_rnn_pool": {
        "type": "cnn_rnn_pool",
        "embed": 5,
        "kernels": [3, 7],
        "filters": 4,
        "hidden": 6,
        "layers": 2,
        "fc": [10],
        "pool": "both",
        "attention": 6,
    },
    "cnn_rnn_pool_max": {
        "type": "cnn_rnn_pool",
        "embed": 5,
        "kernels": [3],
        "filters": 4,
        "hidden": 6,
        "layers": 1,
        "fc": [],
        "pool": "max",
    },
    "rnn_last": {"type": "rnn_last", "cell": "lstm", "hidden": 6, "layers": 2, "fc": [8]},
    "rnn_last_forward": {"type": "rnn_last", "cell": "gru", "hidden": 6, "bidirectional": False},
}
# the biGRU reads windows of 3 residues (the test lengths are not multiples of 3)
PROTEIN_SPECS["cnn_rnn_pool_stride3"] = {**PROTEIN_SPECS["cnn_rnn_pool"], "stride": 3}
ALL_SPECS = {**SPECS, **PROTEIN_SPECS}


def _build(name: str) -> torch.nn.Module:
    spec = ALL_SPECS[name]
    if model_task(spec) == "per_protein":
        return build_model(spec, n_classes=N_CLASSES)
    return build_model(spec, rsa=True)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _batch(lengths: list[int], n_features: int = 41) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(len(lengths), max(lengths), n_features)
    for b, length in enumerate(lengths):
        aa = torch.randint(0, 21, (length,), generator=g)
        x[b, :length, :21] = torch.nn.functional.one_hot(aa, 21).float()
        x[b, :length, 21:] = torch.rand(length, n_features - 21, generator=g)
        x[b, length:] = 7.0  # garbage in the padding must not matter
    return x, torch.tensor(lengths)


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_output_shapes(name: str) -> None:
    torch.manual_seed(0)
    model = _build(name)
    assert count_parameters(model) > 0
    x, lengths = _batch([9, 4, 13])
    out = model(x, lengths)
    if name in PROTEIN_SPECS:
        assert set(out) == {"location", "membrane"}
        assert out["location"].shape == (3, N_CLASSES)
        assert out["membrane"].shape == (3, 2)
    else:
        assert set(out) == {"ss8", "ss3", "rsa"}
        assert out["ss8"].shape == (3, 13, 8)
        assert out["ss3"].shape == (3, 13, 3)
        assert out["rsa"].shape == (3, 13)
        assert ((out["rsa"] >= 0) & (out["rsa"] <= 1)).all()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_rsa_head_only_on_request(name: str) -> None:
    torch.manual_seed(0)
    plain = build_model(SPECS[name])
    x, lengths = _batch([9, 4])
    assert set(plain(x, lengths)) == {"ss8", "ss3"}
    # the rsa head comes last: the other parameters are initialised as without it
    torch.manual_seed(0)
    with_rsa = build_model(SPECS[name], rsa=True)
    state = with_rsa.state_dict()
    assert {k for k in state if "rsa" in k} == {"heads.rsa.weight", "heads.rsa.bias"}
    for k, v in plain.state_dict().items():
        assert torch.equal(state[k], v), k


def _outputs(out: dict, b: int, length: int) -> dict[str, torch.Tensor]:
    """Protein ``b``'s outputs: per protein as they are, per residue its first ``length``."""
    return {k: v[b] if k in ("location", "membrane") else v[b, :length] for k, v in out.items()}


@pytest.mark.parametrize("packed", [None, True], ids=["default", "packed"])
@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_alone_equals_in_padded_batch(name: str, packed: bool | None) -> None:
    torch.manual_seed(0)
    model = _build(name).eval()
    for module in model.modules():
        if isinstance(module, BiRNN):
            module.packed = packed  # True: the path CUDA takes
    x, lengths = _batch([17, 5, 30, 11])
    bucket = torch.cat([x, torch.full((4, 34, 41), 7.0)], dim=1)  # padded on to a bucket (64)
    with torch.no_grad():
        batched = model(x, lengths)
        bucketed = model(bucket, lengths)
        for b, length in enumerate(lengths.tolist()):
            alone = _outputs(model(x[b : b + 1, :length], lengths[b : b + 1]), 0, length)
            for other in (batched, bucketed):
                for task, value in _outputs(other, b, length).items():
                    diff = (alone[task] - value).abs().max()
                    assert diff < 1e-5, (name, task, b, float(diff))


def test_downsample_max_takes_window_maxima_of_real_residues_only() -> None:
    h = torch.tensor([[1.0, -2.0, -3.0, 4.0, -5.0, 9.0], [-1.0, -2.0, -6.0, 9.0, 9.0, 9.0]])
    pooled, lengths = downsample_max(h.unsqueeze(-1), torch.tensor([5, 3]), 2)
    assert lengths.tolist() == [3, 2]
    # protein 0: windows (1, -2) (-3, 4) (-5 | padding 9); protein 1: (-1, -2) (-6 | 9), then zero
    assert pooled.squeeze(-1).tolist() == [[1.0, 4.0, -5.0], [-1.0, -6.0, 0.0]]


def test_last_states_take_each_direction_at_its_end() -> None:
    h = torch.arange(2 * 5 * 4, dtype=torch.float32).reshape(2, 5, 4)
    lengths = torch.tensor([3, 5])
    got = last_states(h, lengths, n_dir=2)
    assert torch.equal(got[0], torch.cat([h[0, 2, :2], h[0, 0, 2:]]))
    assert torch.equal(got[1], torch.cat([h[1, 4, :2], h[1, 0, 2:]]))
    assert torch.equal(last_states(h, lengths, n_dir=1), h[[0, 1], [2, 4]])


def test_rnn_last_equals_torch_final_hidden_state() -> None:
    """rnn_last's pooled vector is the final hidden state nn.LSTM reports for packed input."""
    torch.manual_seed(0)
    model = build_model(PROTEIN_SPECS["rnn_last"], n_classes=3).eval()
    ref = torch.nn.LSTM(41, 6, num_layers=2, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for layer, directions in enumerate(model.rnn.layers):
            for suffix, module in zip(("", "_reverse"), directions, strict=True):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(ref, f"{name}_l{layer}{suffix}").copy_(getattr(module, f"{name}_l0"))
        x, lengths = _batch([12, 3, 8])
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        h_n = ref(packed)[1][0]  # (layers * 2) x B x hidden
        expected = torch.cat([h_n[-2], h_n[-1]], dim=-1)
        got = last_states(model.rnn(x, lengths), lengths, 2)
        assert torch.allclose(got, expected, atol=1e-6)


def test_bad_specs_are_clear() -> None:
    with pytest.raises(ValueError, match="type"):
        build_model({"type": "transformer"})
    with pytest.raises(ValueError, match="hiden"):
        build_model({"type": "rnn", "hiden": 3})
    with pytest.raises(ValueError, match="odd"):
        build_model({"type": "cnn", "kernels": [4]})
    with pytest.raises(ValueError, match="cell"):
        build_model({"type": "rnn", "cell": "mamba"})
    with pytest.raises(ValueError, match="n_classes"):
        build_model({"type": "rnn_last"})
    with pytest.raises(ValueError, match="rsa"):
        build_model({"type": "rnn_last"}, n_classes=3, rsa=True)
    with pytest.raises(ValueError, match="pool"):
        build_model({"type": "cnn_rnn_pool", "pool": "mean"}, n_classes=3)
    with pytest.raises(ValueError, match="kernels"):
        build_model({"type": "cnn", "kernels": []})
    with pytest.raises(ValueError, match="stride"):
        build_model({"type": "cnn_rnn_pool", "stride": 0}, n_classes=3)
    with pytest.raises(ValueError, match="stride"):  # per-residue models keep every residue
        build_model({"type": "cnn_rnn", "stride": 2})
    with pytest.raises(ValueError, match="attention_steps"):
        build_model({"type": "rnn_attention", "attention_steps": 0}, n_classes=3)
    assert model_task({"type": "cnn_rnn"}) == "per_residue"
    assert model_task({"type": "rnn_attention"}) == "per_protein"


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_birnn_matches_torch_bidirectional_on_packed_input(cell: str) -> None:
    torch.manual_seed(0)
    ours = BiRNN(41, cell, hidden=5, layers=2, bidirectional=True, dropout=0.0).eval()
    ref = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](
        41, 5, num_layers=2, batch_first=True, bidirectional=True
    )
    with torch.no_grad():
        for layer, directions in enumerate(ours.layers):
            for suffix, module in zip(("", "_reverse"), directions, strict=True):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(ref, f"{name}_l{layer}{suffix}").copy_(getattr(module, f"{name}_l0"))
    x, lengths = _batch([12, 3, 8])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        expected, _ = pad_packed_sequence(ref(packed)[0], batch_first=True)
        for mode in (False, True):  # padded (CPU default) and packed (CUDA default) paths
            ours.packed = mode
            got = ours(x, lengths)
            for b, length in enumerate(lengths.tolist()):
                assert torch.allclose(got[b, :length], expected[b, :length], atol=1e-6)


def test_per_protein_types_are_model_types() -> None:
    """The config's list of many-to-one types (which decides each model's task) names real types."""
    from protrnn.config.experiments import PER_PROTEIN_TYPES
    from protrnn.model.zoo import MODEL_TYPES

    assert set(PER_PROTEIN_TYPES) < set(MODEL_TYPES)
