"""Checks of a backend's extra profile columns shared by the backend tests (mmseqs2, psiblast,
jackhmmer): shape, ranges, no-hit values, conserved column, self-hit independence, coverage; and
a small dataset with PSSMs and extra columns for the encoding tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from protrnn.core.alphabet import AMINO_ACIDS, SS8, SS8_TO_SS3, sequence_hash
from protrnn.profiles import extras as ex
from tests.synthetic import random_seq


def check_ranges(extras: np.ndarray, length: int) -> None:
    """L x 23 float32 at the stored precision; probabilities sum to 1; counts and fractions in
    range."""
    assert extras.shape == (length, ex.N_EXTRA) and extras.dtype == np.float32
    assert np.array_equal(extras, ex.quantized(extras))
    assert np.allclose(extras[:, ex.PROBS].sum(1), 1.0, atol=0.02)
    assert (extras[:, ex.PROBS] >= 0).all() and (extras[:, ex.PROBS] <= 1).all()
    assert (extras[:, ex.INFORMATION] >= 0).all() and (extras[:, ex.DEPTH] >= 0).all()
    assert ((extras[:, ex.GAP_FRACTION] >= 0) & (extras[:, ex.GAP_FRACTION] <= 1)).all()


def check_family(
    with_db: dict, without_db: dict, query: str, orphan: str, n_homologs: int, conserved: int
) -> None:
    """Extras of the family query (``q``) and the orphan (``o``), searched against a database
    with and without the query's own copy."""
    for found in (with_db, without_db):
        check_ranges(found.extras["q"], len(query))
        check_ranges(found.extras["o"], len(orphan))
        # no homologue: exactly the documented no-hit values
        assert np.array_equal(found.extras["o"], ex.quantized(ex.no_hit_extras(len(orphan))))
    # the query's own copy never contributes
    assert np.array_equal(with_db.extras["q"], without_db.extras["q"])
    q = without_db.extras["q"]
    # every homologue has W at the conserved column; the query has A there
    assert q[conserved, ex.PROBS][AMINO_ACIDS.index("W")] > 0.5
    assert q[:, ex.INFORMATION].mean() > 0.3 and q[conserved, ex.INFORMATION] > 1.0
    assert 0 < q[:, ex.DEPTH].max() <= n_homologs and np.median(q[:, ex.DEPTH]) >= n_homologs / 2


def check_chimera(extras: np.ndarray, homologous: slice, other: slice) -> None:
    """Homologues align to the ``homologous`` part: depth there, less in ``other`` and none at its
    end (alignments may extend some way into the unrelated part: PSI-BLAST's overextension)."""
    check_ranges(extras, len(extras))
    assert (extras[homologous, ex.DEPTH][5:-5] > 0).all()
    assert extras[other, ex.DEPTH].mean() < extras[homologous, ex.DEPTH].mean()
    assert (extras[other, ex.DEPTH][-5:] == 0).all(), extras[other, ex.DEPTH]
    assert (extras[other, ex.GAP_FRACTION][-5:] == 0).all()


def random_extras(rng: np.random.Generator, length: int) -> np.ndarray:
    """Valid raw extra columns (probabilities, bits, depth, gap fraction)."""
    probs = rng.dirichlet(np.ones(20), length)
    info = rng.uniform(0, 4, length)
    depth = rng.integers(0, 2000, length).astype(float)
    gaps = rng.uniform(0, 1, length)
    return ex.quantized(np.column_stack([probs, info, depth, gaps]))


def dataset(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict, dict]:
    """(table, PSSMs, extra columns) of ``n`` proteins whose ss8 follows the residue."""
    rng = np.random.default_rng(seed)
    rows, pssms, extras = [], {}, {}
    for i in range(n):
        seq = random_seq(rng, int(rng.integers(12, 30)))
        ss8 = "".join(SS8[AMINO_ACIDS.index(a) % 8] for a in seq)
        split = "valid" if i % 4 == 3 else "train"
        rows.append({"id": f"p{i}", "sequence": seq, "ss8": ss8, "split": split,
                     "ss3": "".join(SS8_TO_SS3[c] for c in ss8), "eval_mask": ""})  # fmt: skip
        pssms[sequence_hash(seq)] = rng.normal(0, 3, (len(seq), 20)).astype(np.float32)
        extras[sequence_hash(seq)] = random_extras(rng, len(seq))
    return pd.DataFrame(rows), pssms, extras
