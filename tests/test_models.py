"""Models: output shapes, and predictions that do not depend on the rest of the batch."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from protrnn.models import BiRNN, build_model, count_parameters

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


@pytest.mark.parametrize("name", sorted(SPECS))
def test_output_shapes(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(SPECS[name])
    assert count_parameters(model) > 0
    x, lengths = _batch([9, 4, 13])
    out = model(x, lengths)
    assert out["ss8"].shape == (3, 13, 8)
    assert out["ss3"].shape == (3, 13, 3)


@pytest.mark.parametrize("packed", [None, True], ids=["default", "packed"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_alone_equals_in_padded_batch(name: str, packed: bool | None) -> None:
    torch.manual_seed(0)
    model = build_model(SPECS[name]).eval()
    for module in model.modules():
        if isinstance(module, BiRNN):
            module.packed = packed  # True: the path CUDA takes
    x, lengths = _batch([17, 5, 30, 11])
    with torch.no_grad():
        batched = model(x, lengths)
        for b, length in enumerate(lengths.tolist()):
            alone = model(x[b : b + 1, :length], lengths[b : b + 1])
            for task in ("ss8", "ss3"):
                diff = (alone[task][0] - batched[task][b, :length]).abs().max()
                assert diff < 1e-5, (name, task, b, float(diff))


def test_bad_specs_are_clear() -> None:
    with pytest.raises(ValueError, match="type"):
        build_model({"type": "transformer"})
    with pytest.raises(ValueError, match="hiden"):
        build_model({"type": "rnn", "hiden": 3})
    with pytest.raises(ValueError, match="odd"):
        build_model({"type": "cnn", "kernels": [4]})
    with pytest.raises(ValueError, match="cell"):
        build_model({"type": "rnn", "cell": "mamba"})


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
