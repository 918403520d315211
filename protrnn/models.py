"""Model zoo: bidirectional RNNs, multi-scale CNNs and the DCRNN-style CNN-biGRU.

Every model maps right-padded features ``x`` (B x T x F) and ``lengths`` (B) to per-residue logits
``{"ss8": B x T x 8, "ss3": B x T x 3}``. Padding never influences real residues: each RNN direction
meets a sequence's padding only after its residues (packed on CUDA, see :class:`BiRNN`) and padded
positions are zeroed before every convolution, so a protein gets the same prediction alone and
inside any batch. Outputs at padded positions are meaningless.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from protrnn.alphabet import N_AA_TOKENS, SS3, SS8

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

#: Spec keys per model type, with defaults.
DEFAULTS: dict[str, dict] = {
    "rnn": {"cell": "gru", "bidirectional": True, "hidden": 128, "layers": 2, "dropout": 0.25},
    "cnn": {"kernels": [3, 7, 11], "filters": 64, "layers": 2, "dropout": 0.25},
    "cnn_rnn": {
        "embed": 50,
        "kernels": [3, 7, 11],
        "filters": 64,
        "hidden": 300,
        "layers": 3,
        "fc": [300, 300],
        "dropout": 0.5,
    },
}


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """B x T bool, True at real residues."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class Heads(nn.Module):
    """Dropout, then one linear classifier per task (8 and 3 states)."""

    def __init__(self, n_in: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ss8 = nn.Linear(n_in, len(SS8))
        self.ss3 = nn.Linear(n_in, len(SS3))

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(h)
        return {"ss8": self.ss8(h), "ss3": self.ss3(h)}


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence's first ``length`` steps, leaving its padding in place (involution)."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    last = (lengths.to(x.device) - 1)[:, None]
    index = torch.where(t <= last, last - t, t)
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class BiRNN(nn.Module):
    """A stack of (bi)directional RNN/LSTM/GRU layers, one unidirectional module per direction.

    The backward direction runs forward over each sequence reversed within its length, so in
    both directions a sequence's padding comes after its residues and never reaches them. On CUDA
    each direction runs on packed sequences (cuDNN skips the padding); on CPU on the padded tensor,
    which is exact for the same reason and about 3x faster there (PyTorch's packed CPU path
    computes input projections step by step).
    """

    def __init__(
        self, n_in: int, cell: str, hidden: int, layers: int, bidirectional: bool, dropout: float
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"model spec: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        n_dir = 2 if bidirectional else 1
        self.layers = nn.ModuleList()
        for i in range(layers):
            n_layer_in = n_in if i == 0 else hidden * n_dir
            self.layers.append(
                nn.ModuleList(
                    _CELLS[cell](n_layer_in, hidden, batch_first=True) for _ in range(n_dir)
                )
            )
        self.dropout = nn.Dropout(dropout)
        self.n_out = hidden * n_dir
        self.packed: bool | None = None  # None: packed on CUDA, padded on CPU

    def _run(self, rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = x.is_cuda if self.packed is None else self.packed
        if not packed:
            return rnn(x)[0]
        seq = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(rnn(seq)[0], batch_first=True, total_length=x.shape[1])
        return out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: B x T x F (right-padded) -> B x T x n_out; padded positions are meaningless."""
        for i, directions in enumerate(self.layers):
            if i:
                x = self.dropout(x)
            outs = [self._run(directions[0], x, lengths)]
            if len(directions) == 2:
                back = self._run(directions[1], reverse_within_length(x, lengths), lengths)
                outs.append(reverse_within_length(back, lengths))
            x = torch.cat(outs, dim=-1)
        return x


class MultiScaleConv(nn.Module):
    """Parallel 'same' convolutions, one per (odd) kernel size, each followed by ReLU."""

    def __init__(self, n_in: int, kernels: list[int], filters: int) -> None:
        super().__init__()
        for k in kernels:
            if k < 1 or k % 2 == 0:
                raise ValueError(f"model spec: kernel sizes must be odd and positive, got {k}")
        self.convs = nn.ModuleList(nn.Conv1d(n_in, filters, k, padding=k // 2) for k in kernels)
        self.n_out = filters * len(kernels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: B x T x C, mask: B x T bool -> B x T x n_out. Padded inputs are zeroed first."""
        h = (x * mask.unsqueeze(-1).to(x.dtype)).transpose(1, 2)
        return torch.cat([torch.relu(conv(h)) for conv in self.convs], dim=1).transpose(1, 2)


class RNNModel(nn.Module):
    """Per-residue tagger: RNN stack -> dropout -> ss8/ss3 heads."""

    def __init__(
        self,
        n_features: int,
        cell: str,
        bidirectional: bool,
        hidden: int,
        layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.rnn = BiRNN(n_features, cell, hidden, layers, bidirectional, dropout)
        self.heads = Heads(self.rnn.n_out, dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(self.rnn(x, lengths))


class CNNModel(nn.Module):
    """Stacked multi-scale convolution blocks -> dropout -> ss8/ss3 heads."""

    def __init__(
        self, n_features: int, kernels: list[int], filters: int, layers: int, dropout: float
    ) -> None:
        super().__init__()
        blocks, n_in = [], n_features
        for _ in range(layers):
            blocks.append(MultiScaleConv(n_in, kernels, filters))
            n_in = blocks[-1].n_out
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.heads = Heads(n_in, dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = padding_mask(lengths, x.shape[1])
        h = x
        for i, block in enumerate(self.blocks):
            h = block(self.dropout(h) if i else h, mask)
        return self.heads(h)


class CNNRNNModel(nn.Module):
    """DCRNN-style cascade (Li & Yu 2016).

    one-hot (first 21 features) -> dense embedding, ++ profile (remaining features) -> parallel
    convolutions (ReLU) -> stacked biGRU over [conv ++ embedded input] -> [biGRU ++ conv] ->
    fully connected ReLU layers -> ss8/ss3 heads; dropout before the GRU and every dense layer.
    """

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
        if n_features <= N_AA_TOKENS:
            raise ValueError(
                f"cnn_rnn needs {N_AA_TOKENS} one-hot + profile features, "
                f"got n_features={n_features}"
            )
        self.embed = nn.Linear(N_AA_TOKENS, embed, bias=False)
        n_local = embed + n_features - N_AA_TOKENS
        self.conv = MultiScaleConv(n_local, kernels, filters)
        self.dropout = nn.Dropout(dropout)
        self.rnn = BiRNN(n_local + self.conv.n_out, "gru", hidden, layers, True, 0.0)
        dense, n_in = [], self.rnn.n_out + self.conv.n_out
        for width in fc:
            dense += [nn.Dropout(dropout), nn.Linear(n_in, width), nn.ReLU()]
            n_in = width
        self.fc = nn.Sequential(*dense)
        self.heads = Heads(n_in, dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = padding_mask(lengths, x.shape[1])
        local = torch.cat([self.embed(x[..., :N_AA_TOKENS]), x[..., N_AA_TOKENS:]], dim=-1)
        conv = self.conv(local, mask)
        h = self.rnn(self.dropout(torch.cat([conv, local], dim=-1)), lengths)
        return self.heads(self.fc(torch.cat([h, conv], dim=-1)))


def _resolve(spec: dict) -> tuple[str, dict]:
    """Model type and its keyword arguments (defaults filled in); unknown keys are errors."""
    kind = spec.get("type")
    if kind not in DEFAULTS:
        raise ValueError(f"model spec: type must be one of {sorted(DEFAULTS)}, got {kind!r}")
    unknown = set(spec) - set(DEFAULTS[kind]) - {"type"}
    if unknown:
        raise ValueError(f"model spec ({kind}): unknown key(s) {sorted(unknown)}")
    return kind, {**DEFAULTS[kind], **{k: v for k, v in spec.items() if k != "type"}}


def build_model(spec: dict, n_features: int = 41) -> nn.Module:
    """Build the model described by ``spec`` (``spec["type"]``: rnn, cnn or cnn_rnn)."""
    kind, kw = _resolve(spec)
    if kind == "rnn":
        return RNNModel(n_features, **kw)
    if kind == "cnn":
        return CNNModel(n_features, **kw)
    return CNNRNNModel(n_features, **kw)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
