"""Model zoo: bidirectional RNNs, multi-scale CNNs, the DCRNN-style CNN-biGRU, and per-protein
(many-to-one) classifiers built from the same parts.

Every model maps right-padded features ``x`` (B x T x F) and ``lengths`` (B) to a dict of outputs.
Per-residue models (types ``rnn``, ``cnn``, ``cnn_rnn``) return logits ``{"ss8": B x T x 8,
"ss3": B x T x 3}`` plus, when built with ``rsa=True``, ``"rsa": B x T`` relative solvent
accessibility in [0, 1] (sigmoid applied). Per-protein models (types ``rnn_attention``,
``cnn_rnn_pool``, ``rnn_last``) return logits ``{"location": B x n_classes, "membrane": B x 2}``.

Padding never influences real residues: each RNN direction meets a sequence's padding only after its
residues (packed on CUDA, see :class:`BiRNN`), padded positions are zeroed before every
convolution, and pooling masks them, so a protein gets the same prediction alone and inside any
batch. Per-residue outputs at padded positions are meaningless.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from protrnn.config.experiments import model_task as type_task
from protrnn.core.alphabet import N_AA_TOKENS, SS3, SS8

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_CNN_RNN = {
    "embed": 50,
    "kernels": [3, 7, 11],
    "filters": 64,
    "hidden": 300,
    "layers": 3,
    "fc": [300, 300],
    "dropout": 0.5,
}

#: Spec keys per model type, with defaults.
DEFAULTS: dict[str, dict] = {
    "rnn": {"cell": "gru", "bidirectional": True, "hidden": 128, "layers": 2, "dropout": 0.25},
    "cnn": {"kernels": [3, 7, 11], "filters": 64, "layers": 2, "dropout": 0.25},
    "cnn_rnn": _CNN_RNN,
    "rnn_attention": {
        "cell": "lstm",
        "hidden": 128,
        "layers": 1,
        "kernels": [1, 3, 5, 9, 15, 21],
        "filters": 20,
        "attention": 128,
        "attention_steps": 1,
        "fc": [128],
        "dropout": 0.5,
    },
    "cnn_rnn_pool": {**_CNN_RNN, "pool": "both", "attention": 128, "stride": 1},
    "rnn_last": {
        "cell": "lstm",
        "bidirectional": True,
        "hidden": 128,
        "layers": 1,
        "fc": [128],
        "dropout": 0.5,
    },
}
POOLS = ("max", "attention", "both")


# ---------------------------------------------------------------- padding helpers
def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """B x T bool, True at real residues."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def downsample_max(
    h: torch.Tensor, lengths: torch.Tensor, stride: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Max over windows of ``stride`` positions: B x T x C -> B x ceil(T / stride) x C, and the
    new lengths ceil(length / stride). Padding never enters a window's maximum (a protein's last,
    partial window holds only its own residues), and windows past a protein's end are zero."""
    mask = padding_mask(lengths, h.shape[1])
    h = h.masked_fill(~mask.unsqueeze(-1), float("-inf")).transpose(1, 2)
    pooled = nn.functional.max_pool1d(h, stride, stride, ceil_mode=True).transpose(1, 2)
    lengths = torch.div(lengths + stride - 1, stride, rounding_mode="floor")
    keep = padding_mask(lengths, pooled.shape[1]).unsqueeze(-1)
    return pooled.masked_fill(~keep, 0.0), lengths


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence's first ``length`` steps, leaving its padding in place (involution)."""
    t = torch.arange(x.shape[1], device=x.device)[None, :]
    last = (lengths.to(x.device) - 1)[:, None]
    index = torch.where(t <= last, last - t, t)
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


# ---------------------------------------------------------------- output heads
class Heads(nn.Module):
    """Per residue: dropout, then one linear classifier per task (8 and 3 states) and, with
    ``rsa``, a sigmoid regression of relative solvent accessibility."""

    def __init__(self, n_in: int, dropout: float, rsa: bool = False) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ss8 = nn.Linear(n_in, len(SS8))
        self.ss3 = nn.Linear(n_in, len(SS3))
        self.rsa = nn.Linear(n_in, 1) if rsa else None

    def forward(self, h: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.dropout(h)
        out = {"ss8": self.ss8(h), "ss3": self.ss3(h)}
        if self.rsa is not None:
            out["rsa"] = torch.sigmoid(self.rsa(h)).squeeze(-1)
        return out


class ProteinHeads(nn.Module):
    """Per protein: dense ReLU layers (dropout before each), dropout, then the location
    (``n_classes``) and membrane (2: soluble, membrane) classifiers."""

    def __init__(self, n_in: int, fc: list[int], n_classes: int, dropout: float) -> None:
        super().__init__()
        dense: list[nn.Module] = []
        for width in fc:
            dense += [nn.Dropout(dropout), nn.Linear(n_in, width), nn.ReLU()]
            n_in = width
        self.fc = nn.Sequential(*dense)
        self.dropout = nn.Dropout(dropout)
        self.location = nn.Linear(n_in, n_classes)
        self.membrane = nn.Linear(n_in, 2)

    def forward(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        v = self.dropout(self.fc(v))
        return {"location": self.location(v), "membrane": self.membrane(v)}


# ---------------------------------------------------------------- building blocks
class BiRNN(nn.Module):
    """A stack of (bi)directional RNN/LSTM/GRU layers, one unidirectional module per direction.

    The backward direction runs forward over each sequence reversed within its length, so in
    both directions a sequence's padding comes after its residues and never reaches them. On CUDA
    each direction runs on packed sequences (cuDNN skips the padding); on CPU on the padded tensor,
    which is exact for the same reason and about 3x faster there (PyTorch's packed CPU path
    computes input projections step by step). Output: forward features, then backward features.
    """

    def __init__(
        self, n_in: int, cell: str, hidden: int, layers: int, bidirectional: bool, dropout: float
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"model spec: cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.n_dir = 2 if bidirectional else 1
        self.layers = nn.ModuleList()
        for i in range(layers):
            n_layer_in = n_in if i == 0 else hidden * self.n_dir
            self.layers.append(
                nn.ModuleList(
                    _CELLS[cell](n_layer_in, hidden, batch_first=True) for _ in range(self.n_dir)
                )
            )
        self.dropout = nn.Dropout(dropout)
        self.n_out = hidden * self.n_dir
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
        if not kernels:
            raise ValueError("model spec: kernels must list at least one kernel size")
        for k in kernels:
            if k < 1 or k % 2 == 0:
                raise ValueError(f"model spec: kernel sizes must be odd and positive, got {k}")
        self.convs = nn.ModuleList(nn.Conv1d(n_in, filters, k, padding=k // 2) for k in kernels)
        self.n_out = filters * len(kernels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x: B x T x C, mask: B x T bool -> B x T x n_out. Padded inputs are zeroed first."""
        h = (x * mask.unsqueeze(-1).to(x.dtype)).transpose(1, 2)
        return torch.cat([torch.relu(conv(h)) for conv in self.convs], dim=1).transpose(1, 2)


# ---------------------------------------------------------------- pooling: residues -> protein
def masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """B x T x C -> B x C: the maximum of each feature over real positions."""
    return h.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)


def last_states(h: torch.Tensor, lengths: torch.Tensor, n_dir: int) -> torch.Tensor:
    """B x T x C (:class:`BiRNN` output) -> B x C: each direction's final state at the sequence's
    true end: the forward half at position length - 1, the backward half at position 0."""
    forward = h[torch.arange(h.shape[0], device=h.device), lengths.to(h.device) - 1]
    if n_dir == 1:
        return forward
    half = h.shape[-1] // 2
    return torch.cat([forward[:, :half], h[:, 0, half:]], dim=-1)


class AttentionPool(nn.Module):
    """Additive attention over positions (padding masked) -> the weighted sum of the features.

    Scores ``v . tanh(U h_t + W s)`` with a query state ``s``. One step: ``s`` = 0, a learned
    fixed query. ``steps`` > 1 is DeepLoc's attention decoder: an LSTM cell reads each step's
    context and its hidden state queries the next step; the last context is the output.
    """

    def __init__(self, n_in: int, n_hidden: int, steps: int = 1) -> None:
        super().__init__()
        if steps < 1:
            raise ValueError(f"model spec: attention_steps must be >= 1, got {steps}")
        self.keys = nn.Linear(n_in, n_hidden)
        self.score = nn.Linear(n_hidden, 1, bias=False)
        self.steps = steps
        if steps > 1:
            self.query = nn.Linear(n_in, n_hidden, bias=False)
            self.decoder = nn.LSTMCell(n_in, n_in)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """h: B x T x C, mask: B x T bool -> B x C."""
        h = h.masked_fill(~mask.unsqueeze(-1), 0.0)
        keys = self.keys(h)
        state = None
        for step in range(self.steps):
            e = keys if state is None else keys + self.query(state[0]).unsqueeze(1)
            scores = self.score(torch.tanh(e)).squeeze(-1).float()
            weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
            context = torch.bmm(weights.unsqueeze(1).to(h.dtype), h).squeeze(1)
            if step + 1 < self.steps:
                state = self.decoder(context, state)
        return context


class Pooling(nn.Module):
    """Masked max, attention, or both concatenated (``pool``: max | attention | both)."""

    def __init__(self, n_in: int, pool: str, attention: int) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"model spec: pool must be one of {POOLS}, got {pool!r}")
        self.max = pool in ("max", "both")
        self.attention = AttentionPool(n_in, attention) if pool != "max" else None
        self.n_out = n_in * (int(self.max) + int(self.attention is not None))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        parts = [masked_max(h, mask)] if self.max else []
        if self.attention is not None:
            parts.append(self.attention(h, mask))
        return torch.cat(parts, dim=-1)


# ---------------------------------------------------------------- per-residue models
class RNNModel(nn.Module):
    """Per-residue tagger: RNN stack -> dropout -> ss8/ss3 (+ rsa) heads."""

    def __init__(
        self,
        n_features: int,
        cell: str,
        bidirectional: bool,
        hidden: int,
        layers: int,
        dropout: float,
        rsa: bool = False,
    ) -> None:
        super().__init__()
        self.rnn = BiRNN(n_features, cell, hidden, layers, bidirectional, dropout)
        self.heads = Heads(self.rnn.n_out, dropout, rsa)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(self.rnn(x, lengths))


class CNNModel(nn.Module):
    """Stacked multi-scale convolution blocks -> dropout -> ss8/ss3 (+ rsa) heads."""

    def __init__(
        self,
        n_features: int,
        kernels: list[int],
        filters: int,
        layers: int,
        dropout: float,
        rsa: bool = False,
    ) -> None:
        super().__init__()
        blocks, n_in = [], n_features
        for _ in range(layers):
            blocks.append(MultiScaleConv(n_in, kernels, filters))
            n_in = blocks[-1].n_out
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.heads = Heads(n_in, dropout, rsa)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = padding_mask(lengths, x.shape[1])
        h = x
        for i, block in enumerate(self.blocks):
            h = block(self.dropout(h) if i else h, mask)
        return self.heads(h)


class CNNRNNTrunk(nn.Module):
    """DCRNN-style cascade (Li & Yu 2016) up to its per-residue features (B x T x n_out).

    one-hot (first 21 features) -> dense embedding, ++ profile (remaining features) -> parallel
    convolutions (ReLU) -> stacked biGRU over [conv ++ embedded input] -> [biGRU ++ conv] ->
    fully connected ReLU layers; dropout before the GRU and every dense layer. ``stride`` > 1
    (per-protein models only) max-pools [conv ++ embedded input] over windows of that many
    residues before the biGRU, which then runs over 1 / stride of the positions.
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
        stride: int = 1,
    ) -> None:
        super().__init__()
        if stride < 1:
            raise ValueError(f"model spec: stride must be >= 1, got {stride}")
        self.stride = int(stride)
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
        self.n_out = n_in

    def features(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features B x T' x n_out and their lengths (T' = T, or ceil(T / stride) when pooled)."""
        mask = padding_mask(lengths, x.shape[1])
        local = torch.cat([self.embed(x[..., :N_AA_TOKENS]), x[..., N_AA_TOKENS:]], dim=-1)
        h = torch.cat([self.conv(local, mask), local], dim=-1)
        if self.stride > 1:
            h, lengths = downsample_max(h, lengths, self.stride)
        conv = h[..., : self.conv.n_out]
        return self.fc(torch.cat([self.rnn(self.dropout(h), lengths), conv], dim=-1)), lengths

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.features(x, lengths)[0]


class CNNRNNModel(CNNRNNTrunk):
    """DCRNN's per-residue tagger: :class:`CNNRNNTrunk` -> ss8/ss3 (+ rsa) heads."""

    def __init__(self, n_features: int, rsa: bool = False, **trunk: Any) -> None:
        super().__init__(n_features, **trunk)
        self.heads = Heads(self.n_out, float(trunk["dropout"]), rsa)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(super().forward(x, lengths))


# ---------------------------------------------------------------- per-protein models
class AttentionRNNModel(nn.Module):
    """Localization in DeepLoc's style (Almagro Armenteros et al. 2017): optional multi-scale
    convolutions (``kernels: []`` = none) -> biLSTM -> attention pooling over positions ->
    dense layers -> location / membrane logits."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        cell: str,
        hidden: int,
        layers: int,
        kernels: list[int],
        filters: int,
        attention: int,
        attention_steps: int,
        fc: list[int],
        dropout: float,
    ) -> None:
        super().__init__()
        self.conv = MultiScaleConv(n_features, kernels, filters) if kernels else None
        n_in = self.conv.n_out if self.conv is not None else n_features
        self.dropout = nn.Dropout(dropout)
        self.rnn = BiRNN(n_in, cell, hidden, layers, True, dropout)
        self.pool = AttentionPool(self.rnn.n_out, attention, attention_steps)
        self.heads = ProteinHeads(self.rnn.n_out, fc, n_classes, dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = padding_mask(lengths, x.shape[1])
        h = self.dropout(self.conv(x, mask)) if self.conv is not None else x
        return self.heads(self.pool(self.rnn(h, lengths), mask))


class CNNRNNPoolModel(CNNRNNTrunk):
    """Per-protein CNN-biGRU: :class:`CNNRNNTrunk` (``stride`` > 1: the biGRU reads windows of
    residues) -> masked max and/or attention pooling -> location / membrane logits."""

    def __init__(
        self, n_features: int, n_classes: int, pool: str, attention: int, **trunk: Any
    ) -> None:
        super().__init__(n_features, **trunk)
        self.pool = Pooling(self.n_out, pool, attention)
        self.heads = ProteinHeads(self.pool.n_out, [], n_classes, float(trunk["dropout"]))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        h, lengths = self.features(x, lengths)
        return self.heads(self.pool(h, padding_mask(lengths, h.shape[1])))


class LastStateRNNModel(nn.Module):
    """The classic many-to-one RNN: each direction's final state at the protein's true end
    (:func:`last_states`) -> dense layers -> location / membrane logits."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        cell: str,
        bidirectional: bool,
        fc: list[int],
        hidden: int,
        layers: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.rnn = BiRNN(n_features, cell, hidden, layers, bidirectional, dropout)
        self.heads = ProteinHeads(self.rnn.n_out, fc, n_classes, dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.heads(last_states(self.rnn(x, lengths), lengths, self.rnn.n_dir))


# ---------------------------------------------------------------- construction
MODEL_TYPES: dict[str, type[nn.Module]] = {
    "rnn": RNNModel,
    "cnn": CNNModel,
    "cnn_rnn": CNNRNNModel,
    "rnn_attention": AttentionRNNModel,
    "cnn_rnn_pool": CNNRNNPoolModel,
    "rnn_last": LastStateRNNModel,
}


def _resolve(spec: dict) -> tuple[str, dict]:
    """Model type and its keyword arguments (defaults filled in); unknown keys are errors."""
    kind = spec.get("type")
    if kind not in DEFAULTS:
        raise ValueError(f"model spec: type must be one of {sorted(DEFAULTS)}, got {kind!r}")
    unknown = set(spec) - set(DEFAULTS[kind]) - {"type"}
    if unknown:
        raise ValueError(f"model spec ({kind}): unknown key(s) {sorted(unknown)}")
    return kind, {**DEFAULTS[kind], **{k: v for k, v in spec.items() if k != "type"}}


def model_task(spec: dict) -> str:
    """'per_residue' or 'per_protein': what the model of ``spec`` predicts."""
    return type_task(_resolve(spec)[0])


def build_model(
    spec: dict, n_features: int = 41, n_classes: int | None = None, rsa: bool = False
) -> nn.Module:
    """Build the model described by ``spec`` (``spec["type"]``: a key of :data:`MODEL_TYPES`).

    ``n_classes`` (the dataset's location classes) is required by per-protein types and ignored
    by the others; ``rsa`` adds the RSA head to per-residue types (a per-protein type refuses it).
    """
    kind, kw = _resolve(spec)
    if type_task(kind) == "per_protein":
        if not n_classes:
            raise ValueError(f"model type {kind!r} predicts per protein: give n_classes")
        if rsa:
            raise ValueError(f"model type {kind!r} predicts per protein: it has no rsa head")
        return MODEL_TYPES[kind](n_features, n_classes, **kw)
    return MODEL_TYPES[kind](n_features, rsa=rsa, **kw)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
