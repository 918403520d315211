"""Checks of protrnn.evaluation.bootstrap (percentile bootstrap over proteins, paired tests)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from protrnn.evaluation.bootstrap import (
    bootstrap_ci,
    bootstrap_mean_ci,
    paired_bootstrap_mean_test,
    paired_bootstrap_test,
)


def simulated_set(
    n: int, acc: float, seed: int, total: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-protein (correct, total): lengths 50..400 (or ``total``), per-protein accuracy noise."""
    rng = np.random.default_rng(seed)
    if total is None:
        total = rng.integers(50, 400, size=n)
    p = np.clip(rng.normal(acc, 0.08, size=n), 0.0, 1.0)
    return rng.binomial(total, p), total


def test_point_estimate_is_pooled_and_inside_ci():
    correct, total = simulated_set(300, 0.75, seed=1)
    est, lo, hi = bootstrap_ci(correct, total)
    assert est == pytest.approx(correct.sum() / total.sum())
    assert lo < est < hi
    assert lo >= 0.0 and hi <= 1.0


def test_pooled_not_mean_of_ratios():
    # protein 1: 1/1, protein 2: 0/9 -> pooled 1/10 (mean of ratios would be 0.5)
    est, lo, hi = bootstrap_ci([1, 0], [1, 9])
    assert est == pytest.approx(0.1)
    # replicates can only be {1,1} -> 1.0, {1,2} -> 0.1, {2,2} -> 0.0
    assert 0.0 <= lo <= hi <= 1.0


def test_degenerate_cases():
    # one protein, or every protein at the same accuracy: every replicate equals the estimate
    assert bootstrap_ci([7], [10]) == pytest.approx((0.7, 0.7, 0.7))
    assert bootstrap_ci([5, 10, 20], [10, 20, 40]) == pytest.approx((0.5, 0.5, 0.5))
    # proteins without counted residues are dropped, so they change nothing
    correct, total = simulated_set(100, 0.7, seed=2)
    with_empty = bootstrap_ci(np.append(correct, [0, 0]), np.append(total, [0, 0]))
    assert with_empty == bootstrap_ci(correct, total)
    assert all(math.isnan(x) for x in bootstrap_ci([0], [0]))
    assert all(math.isnan(x) for x in bootstrap_mean_ci([np.nan]))


def test_deterministic_with_seed():
    correct, total = simulated_set(200, 0.7, seed=3)
    assert bootstrap_ci(correct, total, seed=5) == bootstrap_ci(correct, total, seed=5)
    assert bootstrap_ci(correct, total, seed=5) != bootstrap_ci(correct, total, seed=6)
    b_correct, _ = simulated_set(200, 0.6, seed=4, total=total)
    first = paired_bootstrap_test(correct, b_correct, total, seed=9)
    assert first == paired_bootstrap_test(correct, b_correct, total, seed=9)


def test_ci_width_shrinks_with_more_proteins():
    c_small, t_small = simulated_set(40, 0.7, seed=7)
    c_big, t_big = simulated_set(2000, 0.7, seed=7)
    _, lo_s, hi_s = bootstrap_ci(c_small, t_small)
    _, lo_b, hi_b = bootstrap_ci(c_big, t_big)
    # width scales ~ 1/sqrt(n): sqrt(2000/40) ~ 7x narrower
    assert (hi_b - lo_b) < (hi_s - lo_s) / 3
    # and a higher level gives a wider interval on the same data
    _, lo_99, hi_99 = bootstrap_ci(c_small, t_small, level=0.99)
    assert lo_99 <= lo_s and hi_s <= hi_99


def test_identical_models_p_one():
    correct, total = simulated_set(150, 0.7, seed=11)
    res = paired_bootstrap_test(correct, correct, total)
    assert res["diff"] == 0.0
    assert (res["ci_low"], res["ci_high"]) == (0.0, 0.0)
    assert res["p_value"] == 1.0
    assert res["n_boot"] == 1000 and res["n_proteins"] == 150


def test_clearly_better_model_small_p():
    rng = np.random.default_rng(12)
    b_correct, total = simulated_set(200, 0.70, seed=13)
    # model A gets ~8 % more residues right on every protein
    a_correct = np.minimum(total, b_correct + rng.binomial(total, 0.08))
    res = paired_bootstrap_test(a_correct, b_correct, total)
    assert res["diff"] == pytest.approx((a_correct - b_correct).sum() / total.sum())
    assert 0 < res["ci_low"] < res["diff"] < res["ci_high"]
    assert res["p_value"] < 0.01
    # no replicate at or below 0: p is at its floor 2 / (B + 1)
    assert res["p_value"] == pytest.approx(2 / 1001)
    # the test is antisymmetric
    rev = paired_bootstrap_test(b_correct, a_correct, total)
    assert rev["diff"] == pytest.approx(-res["diff"])
    assert rev["ci_high"] < 0 and rev["p_value"] == res["p_value"]


def test_paired_p_value_formula_by_hand():
    # two proteins of 10 residues; A: 10, 10 correct; B: 0, 10 -> d = (10, 0), diff = 10/20.
    # A replicate draws 2 indices: d* = 1.0 for (0,0), 0.5 for mixed, 0.0 for (1,1), so
    # #{d* <= 0} = #{both draws == 1} and #{d* >= 0} = B, giving p = 2 (1 + #{(1,1)}) / (B+1).
    n_boot, seed = 1000, 3
    res = paired_bootstrap_test([10, 10], [0, 10], [10, 10], n_boot=n_boot, seed=seed)
    idx = np.random.default_rng(seed).integers(0, 2, size=(n_boot, 2))  # the same draws
    n_zero = int((idx == 1).all(axis=1).sum())
    assert res["diff"] == pytest.approx(0.5)
    assert res["p_value"] == pytest.approx(2 * (1 + n_zero) / (n_boot + 1))
    assert 0.4 < res["p_value"] < 0.6  # P(both draws == 1) = 1/4 -> p ~ 0.5
    assert (res["ci_low"], res["ci_high"]) == (0.0, 1.0)


def test_bootstrap_mean_ci_for_per_protein_values():
    rng = np.random.default_rng(21)
    values = np.clip(rng.normal(0.72, 0.1, size=300), 0, 1)
    with_nan = np.append(values, [np.nan, np.nan])
    mean, lo, hi = bootstrap_mean_ci(with_nan)
    assert mean == pytest.approx(values.mean())
    assert lo < mean < hi
    # NaNs are dropped before resampling
    assert (mean, lo, hi) == bootstrap_mean_ci(values)
    # roughly the normal-theory half-width 1.96 * sd / sqrt(n)
    half = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.25)


def test_paired_mean_test():
    rng = np.random.default_rng(22)
    b = np.clip(rng.normal(0.70, 0.1, size=200), 0, 1)
    a = b + 0.05 + rng.normal(0, 0.02, size=200)
    res = paired_bootstrap_mean_test(a, b)
    assert res["diff"] == pytest.approx((a - b).mean())
    assert res["p_value"] < 0.01 and res["ci_low"] > 0
    same = paired_bootstrap_mean_test(b, b)
    assert same["diff"] == 0.0 and same["p_value"] == 1.0
    # a NaN in either model drops the protein from both
    a2, b2 = np.append(a, np.nan), np.append(b, 0.5)
    assert paired_bootstrap_mean_test(a2, b2) == res


def test_input_validation():
    with pytest.raises(ValueError):
        bootstrap_ci([1, 2], [3])
    with pytest.raises(ValueError):
        bootstrap_ci([5], [3])  # more correct than total
    with pytest.raises(ValueError):
        bootstrap_ci([1], [3], n_boot=0)
    with pytest.raises(ValueError):
        bootstrap_mean_ci([0.5], level=1.0)
    with pytest.raises(ValueError):
        paired_bootstrap_mean_test([0.5, 0.4], [0.5])


def test_fast_enough():
    # 1000 replicates over 500 proteins: vectorised, a few milliseconds
    correct, total = simulated_set(500, 0.7, seed=31)
    b_correct, _ = simulated_set(500, 0.65, seed=32, total=total)
    start = time.perf_counter()
    bootstrap_ci(correct, total, n_boot=1000)
    paired_bootstrap_test(correct, b_correct, total, n_boot=1000)
    bootstrap_mean_ci(correct / total, n_boot=1000)
    assert time.perf_counter() - start < 1.0
