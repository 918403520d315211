"""Hand-worked checks of protrnn.evaluation.sov (SOV'99 and SOV_refine).

Every expected number below is derived by hand from the published formulas (see the
protrnn.evaluation.sov docstring); the arithmetic is in the comments. Positions are 1-based and
inclusive; "A[1-3]" is a segment of state A covering residues 1..3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from protrnn.evaluation.sov import (
    mean_sov,
    sov99,
    sov99_per_state,
    sov_per_protein,
    sov_refine,
    sov_refine_per_state,
)


def test_identical_strings_score_one():
    # every s1 pairs only with itself: minov = maxov = len(s1), delta = min(0, ...) = 0
    # (SOV_refine: capped at maxov - minov = 0), so each term is len(s1) and sum = N.
    for s in ["CHHHHHHHHHHC", "CCEEEECCHHHHHHTTSGGGC", "H", "EEEE"]:
        assert sov99(s, s) == pytest.approx(1.0)
        assert sov_refine(s, s) == pytest.approx(1.0)
        assert all(v == pytest.approx(1.0) for v in sov99_per_state(s, s).values())


# Example of the SOV_refine authors' README (exmp/test1.fasta vs exmp/test2.fasta), whose
# published output is SOV_99_i A 0.875, B 0.500, SOV_99 0.650; SOV_refine_i A 0.852,
# B 0.465, SOV_refine 0.620. Worked by hand:
#
#   r = AAABBBAAABBBBAABB  (L = 17)  segments A[1-3] B[4-6] A[7-9] B[10-13] A[14-15] B[16-17]
#   p = AABBABBAABBAAAAAA            segments A[1-2] B[3-4] A[5] B[6-7] A[8-9] B[10-11] A[12-17]
#
# SOV'99, state A:
#   A[1-3]  x A[1-2] : minov 2, maxov 3, delta = min(1, 2, int(3/2)=1, int(2/2)=1) = 1
#                      term (2+1)/3*3 = 3
#   A[7-9]  x A[8-9] : same numbers -> 3
#   A[14-15]x A[12-17]: minov 2, maxov 6, delta = min(4, 2, 1, 3) = 1 -> (2+1)/6*2 = 1
#   N(A) = 3 + 3 + 2 = 8 ;  SOV(A) = 7/8 = 0.875
# SOV'99, state B:
#   B[4-6]  x B[3-4] : minov 1, maxov 4, delta = min(3, 1, 1, 1) = 1 -> 2/4*3 = 1.5
#   B[4-6]  x B[6-7] : minov 1, maxov 4, delta = 1 -> 1.5   (B[4-6] is counted twice in N)
#   B[10-13]x B[10-11]: minov 2, maxov 4, delta = min(2, 2, 2, 1) = 1 -> 3/4*4 = 3
#   B[16-17] overlaps no predicted B: S'(B), adds 2 to N only
#   N(B) = 3 + 3 + 4 + 2 = 12 ; SOV(B) = 6/12 = 0.5
# Overall SOV'99 = (7 + 6) / (8 + 12) = 13/20 = 0.65
#
# SOV_refine (lambda = 1): K = 2 states, sum (len/L)^2 = (9+9+9+16+4+4)/289 = 51/289,
#   delta_all = 1 * 2 / (51/289) = 578/51 = 34/3,
#   delta = min(maxov-minov, 34/3 * len1/17 * minov/maxov) = min(., (2*len1/3) * minov/maxov)
# state A:
#   A[1-3]  x A[1-2] : 2*3/3 * 2/3 = 4/3 > maxov-minov = 1 -> 1 ; term 3
#   A[7-9]  x A[8-9] : same -> 3
#   A[14-15]x A[12-17]: 2*2/3 * 2/6 = 4/9 (cap 4) ; term (2 + 4/9)/6*2 = 22/27
#   sum = 6 + 22/27 = 184/27 ; SOV_refine(A) = 184/27 / 8 = 23/27 = 0.85185
# state B:
#   B[4-6]  x B[3-4] : 2*3/3 * 1/4 = 1/2 (cap 3) ; term (1 + 1/2)/4*3 = 9/8 ; twice -> 9/4
#   B[10-13]x B[10-11]: 2*4/3 * 2/4 = 4/3 (cap 2) ; term (2 + 4/3)/4*4 = 10/3
#   sum = 9/4 + 10/3 = 67/12 ; SOV_refine(B) = 67/144 = 0.46528
# Overall = (184/27 + 67/12) / 20 = (1339/108) / 20 = 1339/2160 = 0.61991
README_R = "AAABBBAAABBBBAABB"
README_P = "AABBABBAABBAAAAAA"


def test_sov_refine_readme_example_by_hand():
    assert sov99_per_state(README_R, README_P) == {
        "A": pytest.approx(7 / 8),
        "B": pytest.approx(6 / 12),
    }
    assert sov99(README_R, README_P) == pytest.approx(13 / 20)
    assert sov_refine_per_state(README_R, README_P) == {
        "A": pytest.approx(23 / 27),
        "B": pytest.approx(67 / 144),
    }
    assert sov_refine(README_R, README_P) == pytest.approx(1339 / 2160)


def test_sov_refine_readme_example_matches_published_output():
    # the published, 3-decimal output of SOV_refine.pl for the same pair
    assert round(sov99(README_R, README_P), 3) == 0.650
    assert round(sov_refine(README_R, README_P), 3) == 0.620
    per99 = sov99_per_state(README_R, README_P)
    per_ref = sov_refine_per_state(README_R, README_P)
    assert (round(per99["A"], 3), round(per99["B"], 3)) == (0.875, 0.500)
    assert (round(per_ref["A"], 3), round(per_ref["B"], 3)) == (0.852, 0.465)


def test_long_helix_over_two_observed_helices():
    # r = CHHHHCCHHHHC   segments C[1] H[2-5] C[6-7] H[8-11] C[12]   (L = 12)
    # p = CHHHHHHHHHHC   segments C[1] H[2-11] C[12]
    # Q3 = 10/12 (only residues 6, 7 wrong).
    # SOV'99 H: H[2-5] x H[2-11]: minov 4, maxov 10, delta = min(6, 4, 2, 5) = 2
    #           term (4+2)/10*4 = 2.4 ; H[8-11] x H[2-11] likewise 2.4 ; N(H) = 8
    #        C: C[1] x C[1]: minov = maxov = 1, delta 0, term 1 ; C[12] x C[12]: term 1
    #           C[6-7]: no predicted C overlaps -> S'(C), N += 2 ; N(C) = 1 + 2 + 1 = 4
    # SOV'99 = (4.8 + 2) / 12 = 6.8/12 = 17/30 = 0.5667 : the merged helix is penalised
    # *more* than by Q3 (0.833), since SOV scores segments, not residues.
    r, p = "CHHHHCCHHHHC", "CHHHHHHHHHHC"
    q3 = sum(a == b for a, b in zip(r, p, strict=True)) / len(r)
    assert q3 == pytest.approx(10 / 12)
    assert sov99(r, p) == pytest.approx(17 / 30)
    assert sov99_per_state(r, p) == {"C": pytest.approx(2 / 4), "H": pytest.approx(4.8 / 8)}
    assert sov99(r, p) < q3
    # SOV_refine: K = 2, sum (len/12)^2 = (1+16+4+16+1)/144 = 38/144, delta_all = 144/19,
    #   H pair: 144/19 * 4/12 * 4/10 = 96/95 (cap 6) ; term (4 + 96/95)/10*4 = 952/475 ; x2
    #   C pairs: cap maxov - minov = 0 -> terms 1 + 1
    #   SOV_refine = (1904/475 + 2) / 12 = 2854/5700 = 0.50070
    assert sov_refine(r, p) == pytest.approx(2854 / 5700)


def test_shifted_boundary_penalised_less_than_q3():
    # r = CCHHHHHHCC   segments C[1-2] H[3-8] C[9-10]        (L = 10)
    # p = CCCHHHHHHC   segments C[1-3] H[4-9] C[10]
    # Q3 = 8/10 (residues 3 and 9 wrong).
    # SOV'99 H: H[3-8] x H[4-9]: minov 5, maxov 7, delta = min(2, 5, 3, 3) = 2 -> 7/7*6 = 6
    #        C: C[1-2] x C[1-3]: minov 2, maxov 3, delta = min(1, 2, 1, 1) = 1 -> 3/3*2 = 2
    #           C[9-10] x C[10]: minov 1, maxov 2, delta = min(1, 1, 1, int(1/2)=0) = 0
    #           -> 1/2*2 = 1 ; N(C) = 4, N(H) = 6
    # SOV'99 = (6 + 3) / 10 = 0.9 > Q3 = 0.8
    r, p = "CCHHHHHHCC", "CCCHHHHHHC"
    assert sov99(r, p) == pytest.approx(0.9)
    assert sov99_per_state(r, p) == {"C": pytest.approx(3 / 4), "H": pytest.approx(1.0)}
    # SOV_refine: K = 2, sum (len/10)^2 = (4+36+4)/100 = 0.44, delta_all = 2/0.44 = 50/11,
    #   delta = min(maxov-minov, (5*len1/11) * minov/maxov)
    #   H: 30/11 * 5/7 = 150/77 (< cap 2) ; term (5 + 150/77)/7*6 = 3210/539
    #   C[1-2]: 10/11 * 2/3 = 20/33 (< 1) ; term (2 + 20/33)/3*2 = 172/99
    #   C[9-10]: 10/11 * 1/2 = 5/11 (< 1) ; term (1 + 5/11)/2*2 = 16/11 = 144/99
    #   SOV_refine = (3210/539 + 316/99) / 10 = (44374/4851) / 10 = 22187/24255 = 0.91474
    # here SOV_refine (0.915) differs from, and exceeds, SOV'99 (0.900).
    assert sov_refine(r, p) == pytest.approx(22187 / 24255)
    assert sov_refine_per_state(r, p) == {
        "C": pytest.approx(316 / 99 / 4),
        "H": pytest.approx(535 / 539),
    }
    assert not math.isclose(sov_refine(r, p), sov99(r, p))


def test_sov_refine_lambda():
    # lambda = 0 -> delta = 0 ; shifted-boundary case above:
    #   H: 5/7*6 = 30/7 ; C: 2/3*2 = 4/3 and 1/2*2 = 1 ; SOV = (30/7 + 4/3 + 1)/10 = 139/210
    assert sov_refine("CCHHHHHHCC", "CCCHHHHHHC", lam=0.0) == pytest.approx(139 / 210)
    # larger lambda gives more allowance (never above 1 thanks to the maxov - minov cap)
    lo = sov_refine(README_R, README_P, lam=0.5)
    hi = sov_refine(README_R, README_P, lam=2.0)
    assert lo < sov_refine(README_R, README_P) < hi <= 1.0


def test_all_wrong_scores_zero():
    # r = HHHHEEEE, p = EEEEHHHH: H[1-4] vs predicted H[5-8] and E[5-8] vs predicted E[1-4]
    # never overlap, every s1 is in S'(i), numerator 0, N = 8 -> 0.
    assert sov99("HHHHEEEE", "EEEEHHHH") == 0.0
    assert sov_refine("HHHHEEEE", "EEEEHHHH") == 0.0
    assert sov99("CCCCCC", "HHHHHH") == 0.0
    assert sov99_per_state("HHHHEEEE", "EEEEHHHH") == {"E": 0.0, "H": 0.0}


def test_masked_positions_break_segments():
    # r = HHHHHHHH with residue 5 unobserved, p = HHHHCCCC.
    # Observed stretches 1-4 and 6-8: reference segments H[1-4], H[6-8] (7 observed residues);
    # predicted H[1-4] only (residue 5's prediction is ignored, 6-8 are C).
    #   H[1-4] x H[1-4]: minov = maxov = 4, delta 0 -> 4 ; H[6-8]: S'(H), N += 3
    #   SOV'99 = 4 / (4 + 3) = 4/7
    # (Deleting residue 5 instead would join the helices: r' = H[1-7], p' = H[1-4],
    #  minov 4, maxov 7, delta = min(3, 4, 3, 2) = 2 -> 6/7: the wrong answer.)
    # SOV_refine: K = 1, L = 7, delta_all = 1/((16+9)/49) = 49/25; the only pair has
    #   maxov - minov = 0 -> delta 0, so also 4/7.
    r, p = "HHHHHHHH", "HHHHCCCC"
    for mask in ("11110111", np.array([1, 1, 1, 1, 0, 1, 1, 1], dtype=np.uint8)):
        assert sov99(r, p, mask) == pytest.approx(4 / 7)
        assert sov_refine(r, p, mask) == pytest.approx(4 / 7)
    # unmasked, for contrast: H[1-8] x H[1-4]: minov 4, maxov 8, delta = min(4, 4, 4, 2) = 2
    #   -> 6/8*8 = 6, N = 8 -> 0.75
    assert sov99(r, p) == pytest.approx(0.75)
    # integer labels (SS3 indices H=0, C=2): a negative true label is unobserved, like mask 0
    t = np.array([0, 0, 0, 0, -1, 0, 0, 0])
    q = np.array([0, 0, 0, 0, 2, 2, 2, 2])
    assert sov99(t, q) == pytest.approx(4 / 7)
    assert sov99_per_state(t, q) == {0: pytest.approx(4 / 7)}


def test_masked_prediction_does_not_bridge_stretches():
    # r = HHCHH with residue 3 unobserved; p = HHHHH. Stretches 1-2 and 4-5:
    # reference H[1-2], H[4-5]; predicted H[1-2], H[4-5] (the predicted helix is cut too),
    # every pair identical -> 1.0. Unmasked it would be: H[1-2] x H[1-5]: minov 2, maxov 5,
    # delta = min(3, 2, 1, 2) = 1 -> 3/5*2 = 1.2, twice = 2.4 ; C[3] in S'(C) ; 2.4/5 = 0.48
    assert sov99("HHCHH", "HHHHH", "11011") == pytest.approx(1.0)
    assert sov99("HHCHH", "HHHHH") == pytest.approx(0.48)


def test_states_selection_and_absent_state():
    # README example restricted to state A: SOV'99 = 7/8 ; absent state -> NaN
    assert sov99(README_R, README_P, states="A") == pytest.approx(7 / 8)
    per = sov99_per_state(README_R, README_P, states="AC")
    assert per["A"] == pytest.approx(7 / 8)
    assert math.isnan(per["C"])
    # restricting states keeps K = 2 for SOV_refine: state A alone = 23/27
    assert sov_refine(README_R, README_P, states="A") == pytest.approx(23 / 27)


def test_no_observed_residue_is_nan_and_errors():
    assert math.isnan(sov99("HHH", "HHH", "000"))
    assert math.isnan(sov_refine("", ""))
    with pytest.raises(ValueError):
        sov99("HHH", "HH")
    with pytest.raises(ValueError):
        sov99("HHH", "HHH", "11")
    with pytest.raises(TypeError):
        sov99("HHH", np.array([0, 0, 0]))


def test_mean_sov_is_a_mean_over_proteins():
    # proteins: identical (1.0), README pair (13/20), fully masked (NaN, left out)
    trues = ["CHHHC", README_R, "HHH"]
    preds = ["CHHHC", README_P, "EEE"]
    masks = [None, None, "000"]
    per = sov_per_protein(trues, preds, masks)
    assert per[:2] == pytest.approx([1.0, 13 / 20])
    assert math.isnan(per[2])
    assert mean_sov(trues, preds, masks) == pytest.approx((1.0 + 13 / 20) / 2)
    assert mean_sov(trues, preds, masks, method="refine") == pytest.approx((1.0 + 1339 / 2160) / 2)
    assert math.isnan(mean_sov(["HH"], ["HH"], ["00"]))
    with pytest.raises(ValueError):
        mean_sov(trues, preds, masks, method="sov94")
