"""Percentile bootstrap over proteins: CIs for pooled accuracy and per-protein means, paired tests.

Proteins, not residues, are the resampling unit: residues of one chain are strongly correlated,
so resampling residues would give far too narrow intervals. Each replicate draws ``n`` proteins
with replacement out of the ``n`` scored ones (same draw for every model in a paired test).

- Pooled accuracy (Q8/Q3 as DESIGN.md defines them): ``sum(correct) / sum(total)`` over the
  drawn proteins. Proteins with ``total == 0`` carry no residue and are dropped before drawing.
- Per-protein means (e.g. SOV, :func:`protrnn.evaluation.sov.sov_per_protein`): mean of the drawn
  values;
  NaN values (unscored proteins) are dropped first.
- CIs are equal-tailed percentile intervals: the ``(1-level)/2`` and ``(1+level)/2`` quantiles
  (numpy's default linear interpolation) of the ``n_boot`` replicate statistics. The point
  estimate is always the statistic of the full set, not the bootstrap mean.
- Paired test (two models on the same proteins): the difference ``d = stat_a - stat_b`` is
  recomputed on each joint replicate; with ``B = n_boot`` replicates ``d*_b``,
  ``p = min(1, 2 * min((1 + #{d*_b <= 0}) / (B + 1), (1 + #{d*_b >= 0}) / (B + 1)))``,
  the two-sided bootstrap p-value (roughly the smallest alpha at which the equal-tailed
  percentile CI of d excludes 0), with the usual +1 correction so that p is never 0: its
  floor is ``2 / (B + 1)`` (~0.002 for B = 1000). Identical models give every ``d*_b = 0``,
  hence p = 1.

Everything is vectorised: one ``(chunk, n)`` index matrix per chunk of replicates, so 1,000
replicates over 500 proteins take a few milliseconds. Results are deterministic for a given
``seed`` (``numpy.random.default_rng``), n and n_boot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

#: Upper bound on the elements of one index matrix (chunk x n), to bound memory.
_MAX_CHUNK_ELEMENTS = 4_000_000

#: Default settings: replicates, seed of ``numpy.random.default_rng``, CI level.
N_BOOT = 1000
SEED = 0
LEVEL = 0.95

#: Per-protein counts (correct / total residues) and per-protein values (e.g. SOV).
Counts = np.ndarray | Sequence[int]
Values = np.ndarray | Sequence[float]
Interval = tuple[float, float, float]


def bootstrap_settings(n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL) -> dict:
    """The ``bootstrap`` entry of metrics.json: how the intervals were drawn."""
    return {
        "method": "percentile bootstrap over proteins",
        "n_boot": n_boot,
        "seed": seed,
        "level": level,
    }


def check_settings(n_boot: int, level: float) -> None:
    """Fail on fewer than one replicate or a level outside (0, 1)."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")


def index_chunks(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` matrices of protein indices drawn with replacement."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, _MAX_CHUNK_ELEMENTS // max(n, 1)))
    done = 0
    while done < n_boot:
        size = min(chunk, n_boot - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def percentile_interval(stats: np.ndarray, level: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of the replicate statistics."""
    alpha = 1.0 - level
    lo, hi = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def _pooled_inputs(correct: Counts, total: Counts) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(correct, dtype=np.float64)
    t = np.asarray(total, dtype=np.float64)
    if c.ndim != 1 or c.shape != t.shape:
        raise ValueError(f"correct {c.shape} and total {t.shape} must be equal-length 1-D arrays")
    if np.any(t < 0) or np.any(c < 0) or np.any(c > t):
        raise ValueError("need 0 <= correct <= total for every protein")
    return c, t


def bootstrap_ci(
    correct: Counts, total: Counts, n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL
) -> Interval:
    """Pooled accuracy ``sum(correct)/sum(total)`` and its percentile-bootstrap CI over proteins.

    ``correct`` and ``total`` are per-protein counted residues. Returns
    ``(estimate, ci_low, ci_high)``; all NaN if no protein has a counted residue.
    """
    check_settings(n_boot, level)
    c, t = _pooled_inputs(correct, total)
    keep = t > 0
    c, t = c[keep], t[keep]
    if c.size == 0:
        return float("nan"), float("nan"), float("nan")
    stats = np.concatenate(
        [c[idx].sum(axis=1) / t[idx].sum(axis=1) for idx in index_chunks(c.size, n_boot, seed)]
    )
    lo, hi = percentile_interval(stats, level)
    return float(c.sum() / t.sum()), lo, hi


def bootstrap_mean_ci(
    values: Values, n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL
) -> Interval:
    """Mean of per-protein values (e.g. SOV) and its percentile-bootstrap CI over proteins.

    NaN values (unscored proteins) are dropped. Returns ``(mean, ci_low, ci_high)``, all NaN if
    nothing is left.
    """
    check_settings(n_boot, level)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {v.shape}")
    v = v[~np.isnan(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    stats = np.concatenate([v[idx].mean(axis=1) for idx in index_chunks(v.size, n_boot, seed)])
    lo, hi = percentile_interval(stats, level)
    return float(v.mean()), lo, hi


def empty_paired_result() -> dict:
    """Result of a paired test with no protein to compare (NaN difference, no replicate)."""
    nan = float("nan")
    return {
        "diff": nan,
        "ci_low": nan,
        "ci_high": nan,
        "p_value": nan,
        "n_boot": 0,
        "n_proteins": 0,
    }


def paired_result(diff: float, stats: np.ndarray, level: float, n: int) -> dict:
    """Paired-test result from the full-set difference and its replicates (two-sided p)."""
    b = stats.size
    p_low = (1 + int((stats <= 0).sum())) / (b + 1)
    p_high = (1 + int((stats >= 0).sum())) / (b + 1)
    lo, hi = percentile_interval(stats, level)
    return {
        "diff": diff,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": float(min(1.0, 2.0 * min(p_low, p_high))),
        "n_boot": b,
        "n_proteins": n,
    }


def paired_bootstrap_test(
    correct_a: Counts,
    correct_b: Counts,
    total: Counts,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict:
    """Paired bootstrap of the pooled-accuracy difference ``acc_a - acc_b`` on the same proteins.

    Proteins are resampled jointly (one draw, both models). Returns a dict with ``diff`` (on
    the full set), ``ci_low``/``ci_high`` (percentile CI of the difference at ``level``),
    ``p_value`` (two-sided, see the module docstring), ``n_boot`` and ``n_proteins``.
    """
    check_settings(n_boot, level)
    a, t = _pooled_inputs(correct_a, total)
    b, _ = _pooled_inputs(correct_b, total)
    keep = t > 0
    a, b, t = a[keep], b[keep], t[keep]
    if t.size == 0:
        return empty_paired_result()
    d = a - b  # per-protein difference in correct residues; the pooled diff is sum(d)/sum(t)
    stats = np.concatenate(
        [d[idx].sum(axis=1) / t[idx].sum(axis=1) for idx in index_chunks(t.size, n_boot, seed)]
    )
    return paired_result(float(d.sum() / t.sum()), stats, level, t.size)


def paired_bootstrap_mean_test(
    values_a: Values, values_b: Values, n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL
) -> dict:
    """Paired bootstrap of ``mean(values_a) - mean(values_b)`` (e.g. per-protein SOV).

    Proteins where either value is NaN are dropped. Same output and p-value as
    :func:`paired_bootstrap_test`.
    """
    check_settings(n_boot, level)
    va = np.asarray(values_a, dtype=np.float64)
    vb = np.asarray(values_b, dtype=np.float64)
    if va.ndim != 1 or va.shape != vb.shape:
        raise ValueError(f"values_a {va.shape} and values_b {vb.shape} must be equal-length 1-D")
    keep = ~(np.isnan(va) | np.isnan(vb))
    d = va[keep] - vb[keep]
    if d.size == 0:
        return empty_paired_result()
    stats = np.concatenate([d[idx].mean(axis=1) for idx in index_chunks(d.size, n_boot, seed)])
    return paired_result(float(d.mean()), stats, level, d.size)
