"""Segment overlap scores: SOV'99 and SOV_refine, per protein, per state and overall.

References
----------
- SOV'99: A. Zemla, C. Venclovas, K. Fidelis, B. Rost, "A modified definition of Sov, a
  segment-based measure for protein secondary structure prediction assessment", Proteins 34
  (1999) 220-223.
- SOV_refine: T. Liu, Z. Wang, "SOV_refine: a further refined definition of segment overlap
  score and its significance for protein structure similarity", Source Code for Biology and
  Medicine 13:1 (2018). The formulas below were checked against the authors' reference script
  ``SOV_refine.pl`` (github.com/zwang-bioinformatics/SOV_refine), whose README example
  (``AAABBBAAABBBBAABB`` vs ``AABBABBAABBAAAAAA``: SOV'99 0.650, SOV_refine 0.620) is
  reproduced in ``tests/test_sov.py``.

Definitions (r = observed/reference string, p = predicted string)
-----------------------------------------------------------------
A *segment* is a maximal run of one state. For state i, s1 ranges over the segments of r in
state i and s2 over the segments of p in state i; positions are inclusive, so
``len(s) = end - start + 1``.

- ``S(i)``  = all pairs (s1, s2) that share at least one residue;
- ``S'(i)`` = the s1 that overlap no s2;
- ``minov(s1, s2)`` = number of residues in both; ``maxov(s1, s2)`` = extent of their union
  (``max(end) - min(start) + 1``);
- ``N(i) = sum_{S(i)} len(s1) + sum_{S'(i)} len(s1)``. An s1 overlapping k predicted segments
  is counted k times (the SOV'99 change from SOV'94);
- ``SOV(i) = 1/N(i) * sum_{S(i)} (minov + delta) / maxov * len(s1)``;
- overall ``SOV = sum_i sum_{S(i)} (...) / sum_i N(i)`` (i.e. the N-weighted mean of SOV(i)).

The two scores differ only in the allowance ``delta``:

- SOV'99: ``delta(s1, s2) = min{maxov - minov, minov, int(len(s1)/2), int(len(s2)/2)}``, where
  ``int`` truncates (= floor for these positive lengths, ``len // 2``), as in the paper and in
  ``SOV_refine.pl`` (``int $len / 2``). delta is therefore an integer.
- SOV_refine: ``delta(s1, s2) = min{maxov - minov, delta_all * len(s1)/len(r) * minov/maxov}``
  with ``delta_all = lambda * K / sum_{j=1}^{N(r)} (len(s_j)/len(r))^2``, where the sum runs
  over *all* N(r) segments s_j of r (every state), K is the number of distinct states present
  in r, and lambda defaults to 1. The cap at ``maxov - minov`` (so a pair never scores above
  1) is the one in ``SOV_refine.pl``.

Conventions of this module
--------------------------
- Scores are fractions in [0, 1] (like :mod:`protrnn.evaluation.residue_metrics`), not percentages.
  NaN means
  "undefined": no observed residue, or (per state) the state is absent from the observed
  reference (N(i) = 0).
- The states scored are the states present in the observed reference, as in ``SOV_refine.pl``.
  Over-predicting a state that r lacks is therefore not penalised by SOV (a known property of
  the measure); ``states`` restricts the sum to a subset (e.g. ``"H"``) but never changes K.
- Unobserved residues (``mask != 1``, or a negative label in integer input) are segment
  *breakers*: the protein is split into maximal observed stretches and segments are found within
  each stretch, for r and p alike; the prediction at an unobserved position is ignored. Deleting
  unobserved residues before segmenting would be wrong, since it joins the segments on either
  side of a disordered loop. All sums (N(i), and for SOV_refine the segment sum in delta_all)
  run over the segments of all stretches, and ``len(r)`` is the number of observed residues.
- Inputs are both strings (e.g. ``"CHHHEEC"``) or both 1-D integer label arrays (e.g. the SS8
  indices of :mod:`protrnn.core.alphabet`, negative = unknown). Per-state dicts are keyed by
  character for strings and by int for label arrays.
- DESIGN.md: SOV is computed per protein and the mean over proteins is reported
  (:func:`mean_sov`, :func:`sov_per_protein`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

Method = Literal["sov99", "refine"]
#: One protein's states: a string (e.g. ``"CHHHEEC"``) or 1-D integer labels (negative unknown).
Labels = str | np.ndarray | Sequence[int]
#: 0/1 observed mask (a string of '0'/'1' for string input); None: all observed.
Mask = str | np.ndarray | Sequence[int] | None
#: States to sum over (characters or label indices); None: those of the observed reference.
States = str | Iterable | None
_SENTINEL = -1  # code of an unobserved residue


def _codes(seq: Labels) -> tuple[np.ndarray, bool]:
    """(int64 codes, is_text). Strings become code points; integer labels stay as they are."""
    if isinstance(seq, str):
        return np.frombuffer(seq.encode("utf-32-le"), dtype="<u4").astype(np.int64), True
    arr = np.asarray(seq)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D label sequence, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"label arrays must be integer, got dtype {arr.dtype}")
    return arr.astype(np.int64), False


def _observed(mask: Mask, n: int) -> np.ndarray:
    """Boolean observed selector from a 0/1 mask (a string mask: '1' = observed)."""
    if mask is None:
        return np.ones(n, dtype=bool)
    if isinstance(mask, str):
        obs = np.frombuffer(mask.encode("utf-32-le"), dtype="<u4") == ord("1")
    else:
        obs = np.asarray(mask) == 1
    if obs.shape != (n,):
        raise ValueError(f"mask shape {obs.shape} does not match sequence length {n}")
    return obs


def _segments(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of one code, skipping unobserved (sentinel) positions.

    Returns (state, start, end) with ``end`` exclusive, in sequence order.
    """
    n = codes.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.ones(n, dtype=bool)
    change[1:] = codes[1:] != codes[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    state = codes[starts]
    keep = state != _SENTINEL
    return state[keep], starts[keep], ends[keep]


def _prepare(
    true: Labels,
    pred: Labels,
    mask: Mask,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Observed-only code arrays (unobserved = sentinel) for r and p, and whether input is text."""
    t, t_text = _codes(true)
    p, p_text = _codes(pred)
    if t_text != p_text:
        raise TypeError("true and pred must both be strings or both be integer label arrays")
    if t.shape != p.shape:
        raise ValueError(f"true ({t.size}) and pred ({p.size}) differ in length")
    obs = _observed(mask, t.size)
    if not t_text:
        obs &= t >= 0
    t = np.where(obs, t, _SENTINEL)
    p = np.where(obs, p, _SENTINEL)
    return t, p, t_text


def _sov_terms(
    true: Labels,
    pred: Labels,
    mask: Mask,
    method: Method,
    lam: float,
) -> tuple[dict[int, tuple[float, int]], bool]:
    """Per reference state: (sum over S(i) of (minov + delta)/maxov * len(s1), N(i))."""
    if method not in ("sov99", "refine"):
        raise ValueError(f"unknown SOV method {method!r} (expected 'sov99' or 'refine')")
    t, p, is_text = _prepare(true, pred, mask)
    t_state, t_start, t_end = _segments(t)
    p_state, p_start, p_end = _segments(p)
    out: dict[int, tuple[float, int]] = {}
    if t_state.size == 0:
        return out, is_text
    t_len = t_end - t_start
    n_obs = int(t_len.sum())  # len(r): observed residues
    ref_states = np.unique(t_state)
    delta_all = 0.0
    if method == "refine":
        k = ref_states.size
        delta_all = lam * k / float(((t_len / n_obs) ** 2).sum())
    for state in ref_states.tolist():
        ti = t_state == state
        pi = p_state == state
        b1, e1, len1 = t_start[ti], t_end[ti], t_len[ti]
        b2, e2 = p_start[pi], p_end[pi]
        # all (s1, s2) pairs by broadcasting: rows = reference segments, columns = predicted
        lo = np.maximum(b1[:, None], b2[None, :])
        hi = np.minimum(e1[:, None], e2[None, :])
        minov = hi - lo
        overlap = minov > 0
        maxov = np.maximum(e1[:, None], e2[None, :]) - np.minimum(b1[:, None], b2[None, :])
        n_pairs_per_s1 = overlap.sum(axis=1)
        # N(i): len(s1) once per overlapping pair, plus once for each s1 in S'(i)
        norm = int((len1 * n_pairs_per_s1).sum() + len1[n_pairs_per_s1 == 0].sum())
        rows, cols = np.nonzero(overlap)
        mn = minov[rows, cols].astype(float)
        mx = maxov[rows, cols].astype(float)
        l1 = len1[rows].astype(float)
        if method == "sov99":
            l2 = (e2 - b2)[cols]
            delta = np.minimum.reduce([mx - mn, mn, len1[rows] // 2, l2 // 2]).astype(float)
        else:
            delta = np.minimum(mx - mn, delta_all * (l1 / n_obs) * (mn / mx))
        score = float(((mn + delta) / mx * l1).sum())
        out[int(state)] = (score, norm)
    return out, is_text


def _select(terms: dict[int, tuple[float, int]], states: States, is_text: bool) -> list[int]:
    if states is None:
        return sorted(terms)
    return [ord(s) if is_text else int(s) for s in states]


def _overall(terms: dict[int, tuple[float, int]], keys: list[int]) -> float:
    num = sum(terms[k][0] for k in keys if k in terms)
    den = sum(terms[k][1] for k in keys if k in terms)
    return num / den if den > 0 else float("nan")


def _per_state(
    terms: dict[int, tuple[float, int]], keys: list[int], is_text: bool
) -> dict[str | int, float]:
    out: dict[str | int, float] = {}
    for k in keys:
        name = chr(k) if is_text else k
        score, norm = terms.get(k, (0.0, 0))
        out[name] = score / norm if norm > 0 else float("nan")
    return out


def sov99(true: Labels, pred: Labels, mask: Mask = None, states: States = None) -> float:
    """Overall SOV'99 of one protein, a fraction in [0, 1] (NaN: nothing observed).

    ``states`` restricts the sum over states (default: every state of the observed reference);
    see the module docstring for the formula and the mask convention.
    """
    terms, is_text = _sov_terms(true, pred, mask, "sov99", 1.0)
    return _overall(terms, _select(terms, states, is_text))


def sov99_per_state(
    true: Labels, pred: Labels, mask: Mask = None, states: States = None
) -> dict[str | int, float]:
    """SOV'99(i) per state (default: the states of the observed reference, sorted).

    A requested state absent from the observed reference maps to NaN (N(i) = 0).
    """
    terms, is_text = _sov_terms(true, pred, mask, "sov99", 1.0)
    return _per_state(terms, _select(terms, states, is_text), is_text)


def sov_refine(
    true: Labels, pred: Labels, mask: Mask = None, lam: float = 1.0, states: States = None
) -> float:
    """Overall SOV_refine (Liu & Wang 2018) of one protein, in [0, 1]; ``lam`` is lambda.

    ``states`` restricts the sum over states; K in delta_all stays the number of states of the
    observed reference.
    """
    terms, is_text = _sov_terms(true, pred, mask, "refine", lam)
    return _overall(terms, _select(terms, states, is_text))


def sov_refine_per_state(
    true: Labels, pred: Labels, mask: Mask = None, lam: float = 1.0, states: States = None
) -> dict[str | int, float]:
    """SOV_refine(i) per state; a requested state absent from the reference maps to NaN."""
    terms, is_text = _sov_terms(true, pred, mask, "refine", lam)
    return _per_state(terms, _select(terms, states, is_text), is_text)


def sov_per_protein(
    trues: Sequence,
    preds: Sequence,
    masks: Sequence | None = None,
    method: Method = "sov99",
    lam: float = 1.0,
    states: States = None,
) -> np.ndarray:
    """Overall SOV of every protein (float array; NaN = protein with no observed residue)."""
    if masks is None:
        masks = [None] * len(trues)
    if not len(trues) == len(preds) == len(masks):
        raise ValueError("trues, preds and masks must have the same number of proteins")
    if method not in ("sov99", "refine"):
        raise ValueError(f"unknown SOV method {method!r} (expected 'sov99' or 'refine')")
    values = []
    for t, p, m in zip(trues, preds, masks, strict=True):
        terms, is_text = _sov_terms(t, p, m, method, lam)
        values.append(_overall(terms, _select(terms, states, is_text)))
    return np.asarray(values, dtype=float)


def mean_of_scored(values: np.ndarray) -> float:
    """Mean of per-protein SOVs without the NaN ones (nothing observed); NaN if none is left."""
    scored = values[~np.isnan(values)]
    return float(scored.mean()) if scored.size else float("nan")


def mean_sov(
    trues: Sequence, preds: Sequence, masks: Sequence | None = None, **options: Any
) -> float:
    """Mean over proteins of the per-protein overall SOV (DESIGN.md: report it as such).

    ``options`` are those of :func:`sov_per_protein` (``method``, ``lam``, ``states``). Proteins
    with no observed residue (NaN) are left out; NaN if none is left.
    """
    return mean_of_scored(sov_per_protein(trues, preds, masks, **options))
