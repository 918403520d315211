"""Hand-computed checks of protrnn.evaluation.residue_metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from protrnn.core.alphabet import SS3, SS8
from protrnn.evaluation.residue_metrics import (
    LENGTH_BINS,
    accuracy,
    calibration,
    confusion_matrix,
    evaluate_predictions,
    length_bin_of,
    length_bin_table,
    macro_f1,
    per_class_scores,
    reduce_ss8_to_ss3,
)

Y_TRUE = np.array([0, 1, 2, 2, -1, 1])
Y_PRED = np.array([0, 2, 2, 1, 0, 1])
MASK = np.array([1, 1, 1, 0, 1, 1], dtype=np.uint8)


def one_hot(labels: list[int], n: int) -> np.ndarray:
    """Probabilities whose argmax is ``labels``."""
    out = np.full((len(labels), n), 0.01, dtype=np.float32)
    out[np.arange(len(labels)), labels] = 0.9
    return out


def test_accuracy_counts_only_masked_known_residues() -> None:
    # counted: positions 0 (ok), 1 (wrong), 2 (ok), 5 (ok); 3 is masked, 4 has unknown label
    assert accuracy(Y_TRUE, Y_PRED, MASK) == pytest.approx(3 / 4)
    # no mask: positions 0,1,2,3,5 count; correct 0,2,5
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(3 / 5)
    assert accuracy(Y_TRUE, one_hot(list(Y_PRED), 3), MASK) == pytest.approx(3 / 4)


def test_accuracy_without_counted_residues_is_nan() -> None:
    assert math.isnan(accuracy([0, 1], [0, 1], [0, 0]))
    assert math.isnan(accuracy([-1, -1], [0, 1], [1, 1]))


def test_accuracy_rejects_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shape"):
        accuracy([0, 1, 2], [0, 1], None)
    with pytest.raises(ValueError, match="mask"):
        accuracy([0, 1], [0, 1], [1])


def test_confusion_matrix_rows_true_columns_predicted() -> None:
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3, MASK)
    # counted (true, pred): (0,0) (1,2) (2,2) (1,1)
    expected = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix([0, 3], [0, 0], 3)


def test_per_class_scores_by_hand() -> None:
    cm = np.array(
        [
            [5, 1, 0, 0],  # class a: support 6
            [2, 3, 1, 0],  # class b: support 6
            [0, 0, 0, 0],  # class c: no support, predicted once
            [0, 0, 0, 0],  # class d: neither present nor predicted
        ]
    )
    table = per_class_scores(cm, "abcd")
    assert list(table["class"]) == ["a", "b", "c", "d"]
    assert list(table["support"]) == [6, 6, 0, 0]
    a, b, c, d = (table.iloc[i] for i in range(4))
    # a: TP 5, predicted 7 -> P 5/7, R 5/6, F1 = 10 / (10 + 2 + 1) = 10/13
    assert a.precision == pytest.approx(5 / 7)
    assert a.recall == pytest.approx(5 / 6)
    assert a.f1 == pytest.approx(10 / 13)
    # b: TP 3, predicted 4 -> P 3/4, R 1/2, F1 = 6 / 10
    assert (b.precision, b.recall, b.f1) == pytest.approx((0.75, 0.5, 0.6))
    # c: predicted once, never right; no support -> recall undefined, F1 0
    assert c.precision == 0.0
    assert math.isnan(c.recall)
    assert c.f1 == 0.0
    # d: nothing at all -> all undefined
    assert math.isnan(d.precision) and math.isnan(d.recall) and math.isnan(d.f1)


def test_per_class_scores_checks_input() -> None:
    with pytest.raises(ValueError, match="square"):
        per_class_scores(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class names"):
        per_class_scores(np.zeros((2, 2)), "abc")


def test_reduce_ss8_to_ss3() -> None:
    reduced = reduce_ss8_to_ss3(np.arange(8))
    # H G I -> H; E B -> E; T S C -> C
    assert "".join(SS3[i] for i in reduced) == "HHHEECCC"
    np.testing.assert_array_equal(reduce_ss8_to_ss3([-1, 3]), [-1, 1])
    assert SS8 == "HGIEBTSC"


def test_evaluate_predictions_pooled_vs_per_protein() -> None:
    h, g, e, c = (SS8.index(x) for x in "HGEC")
    h3, e3, c3 = 0, 1, 2
    # protein A: 2 residues, both right. protein B: 8 residues, 4 right (and one masked residue).
    true8 = [np.array([h, e]), np.array([h, h, h, h, e, e, c, c, c])]
    pred8 = [np.array([h, e]), np.array([h, h, g, g, e, c, c, e, h])]
    true3 = [np.array([h3, e3]), np.array([h3, h3, h3, h3, e3, e3, c3, c3, c3])]
    pred3 = [np.array([h3, e3]), np.array([h3, c3, c3, h3, e3, c3, c3, e3, h3])]
    masks = [np.array([1, 1]), np.array([1, 1, 1, 1, 1, 1, 1, 1, 0])]
    res = evaluate_predictions(
        true8,
        [one_hot(list(p), 8) for p in pred8],
        true3,
        [one_hot(list(p), 3) for p in pred3],
        masks,
    )
    # Q8: A 2/2, B right at 0,1,4,6 -> 4/8. Pooled 6/10, per-protein mean (1 + 0.5)/2
    assert res["q8"] == pytest.approx(0.6)
    assert res["q8_per_protein_mean"] == pytest.approx(0.75)
    # Q3: A 2/2, B right at 0,3,4,6 -> 4/8
    assert res["q3"] == pytest.approx(0.6)
    # Q3 from the 8-state head: G -> H makes B positions 2,3 right: B 6/8 -> pooled 8/10
    assert res["q3_from_ss8"] == pytest.approx(0.8)
    assert res["n_proteins"] == 2 and res["n_proteins_scored"] == 2
    assert res["n_residues"] == 10 and res["n_residues_q3"] == 10
    assert res["confusion_ss8"].shape == (8, 8) and res["confusion_ss8"].sum() == 10
    assert res["confusion_ss8"][h, g] == 2
    assert res["confusion_ss3_from_ss8"][h3, h3] == 5  # A: 1, B: 4 (G counted as H)
    np.testing.assert_allclose(res["per_protein_q8"], [1.0, 0.5])
    assert list(res["per_class_ss8"]["class"]) == list(SS8)
    assert list(res["per_class_ss3"]["class"]) == list(SS3)
    # class I is absent and never predicted -> undefined F1
    assert math.isnan(res["per_class_ss8"].set_index("class").loc["I", "f1"])


def test_evaluate_predictions_protein_without_counted_residues() -> None:
    res = evaluate_predictions(
        [np.array([0, 0]), np.array([3])],
        [np.array([0, 1]), np.array([3])],
        [np.array([0, 0]), np.array([1])],
        [np.array([0, 1]), np.array([1])],
        [np.array([1, 1]), np.array([0])],
    )
    assert res["q8"] == pytest.approx(0.5)
    assert res["q8_per_protein_mean"] == pytest.approx(0.5)  # protein 2 has nothing to score
    assert res["n_proteins"] == 2 and res["n_proteins_scored"] == 1
    assert math.isnan(res["per_protein_q8"][1])


def test_evaluate_predictions_checks_lengths_and_classes() -> None:
    with pytest.raises(ValueError, match="same length"):
        evaluate_predictions([np.array([0])], [], [np.array([0])], [np.array([0])], [np.ones(1)])
    with pytest.raises(ValueError, match="8 class columns"):
        evaluate_predictions(
            [np.array([0])], [np.ones((1, 3))], [np.array([0])], [np.ones((1, 3))], [np.ones(1)]
        )


def test_per_class_mcc_and_macro_f1_by_hand() -> None:
    cm = np.array([[5, 1, 0, 0], [2, 3, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])  # 12 residues
    table = per_class_scores(cm, "abcd")
    # a vs rest: TP 5, FP 2 (b predicted as a), FN 1, TN 12 - 8 = 4
    #   MCC = (5*4 - 2*1) / sqrt(7 * 6 * 6 * 5) = 18 / sqrt(1260)
    # b vs rest: TP 3, FP 1, FN 3, TN 12 - 7 = 5 -> (15 - 3) / sqrt(4 * 6 * 8 * 6)
    assert table["mcc"][0] == pytest.approx(18 / math.sqrt(1260))
    assert table["mcc"][1] == pytest.approx(12 / math.sqrt(1152))
    # c never present (TP + FN = 0), d neither present nor predicted: MCC undefined
    assert math.isnan(table["mcc"][2]) and math.isnan(table["mcc"][3])
    # macro-F1 over the classes with a defined F1 (a, b, c): (10/13 + 0.6 + 0) / 3
    assert macro_f1(table) == pytest.approx((10 / 13 + 0.6 + 0.0) / 3)

    perfect = per_class_scores(np.diag([3, 2, 4]), "xyz")
    np.testing.assert_allclose(perfect["mcc"], 1.0)
    assert macro_f1(perfect) == pytest.approx(1.0)
    # binary, always wrong: MCC -1
    assert per_class_scores(np.array([[0, 2], [3, 0]]))["mcc"][0] == pytest.approx(-1.0)
    assert math.isnan(macro_f1(per_class_scores(np.zeros((2, 2), dtype=int))))


def test_calibration_ece_by_hand() -> None:
    probs = np.array(
        [
            [0.90, 0.10],  # true 0: confidence .90 right  -> bin 13 (.9 * 15 = 13.5)
            [0.10, 0.90],  # true 0: confidence .90 wrong  -> bin 13
            [0.62, 0.38],  # true 0: confidence .62 right  -> bin 9 (9.3)
            [0.28, 0.72],  # true 1: confidence .72 right  -> bin 10 (10.8)
            [0.99, 0.01],  # masked out
            [0.50, 0.50],  # unknown label
            [1.00, 0.00],  # true 1: confidence 1.0 wrong -> last bin (14)
        ]
    )
    y = np.array([0, 0, 0, 1, 1, -1, 1])
    mask = np.array([1, 1, 1, 1, 0, 1, 1])
    ece, bins = calibration(y, probs, mask)
    # 5 residues: bin 13 |0.5 - 0.9| * 2, bin 9 |1 - .62|, bin 10 |1 - .72|, bin 14 |0 - 1|
    assert ece == pytest.approx((2 * 0.4 + 0.38 + 0.28 + 1.0) / 5)
    assert len(bins) == 15 and bins["n"].sum() == 5
    b13 = bins.iloc[13]
    assert (b13.n, b13.confidence, b13.accuracy) == pytest.approx((2, 0.9, 0.5))
    assert (b13.lower, b13.upper) == pytest.approx((13 / 15, 14 / 15))
    assert bins.iloc[14].n == 1 and bins.iloc[14].accuracy == 0.0
    assert bins.iloc[0].n == 0 and math.isnan(bins.iloc[0].accuracy)
    # perfectly calibrated: confidence .75, 3 of 4 right
    probs4 = np.tile([0.75, 0.25], (4, 1))
    assert calibration([0, 0, 0, 1], probs4)[0] == pytest.approx(0.0)
    assert math.isnan(calibration([0], [[0.5, 0.5]], [0])[0])


def test_length_bins_by_hand() -> None:
    assert [b[0] for b in LENGTH_BINS] == ["<100", "100-199", "200-299", "300-499", ">=500"]
    assert [length_bin_of(n) for n in (1, 99, 100, 199, 200, 300, 499, 500, 4000)] == [
        "<100",
        "<100",
        "100-199",
        "100-199",
        "200-299",
        "300-499",
        "300-499",
        ">=500",
        ">=500",
    ]
    lengths = [50, 99, 150, 600, 700]
    table = length_bin_table(
        lengths,
        correct_ss8=[10, 5, 30, 100, 0],
        total_ss8=[20, 10, 40, 200, 0],
        correct_ss3=[15, 8, 35, 150, 0],
        total_ss3=[20, 10, 40, 200, 0],
    ).set_index("bin")
    assert list(table["n_proteins"]) == [2, 1, 0, 0, 2]
    assert list(table["n_residues"]) == [30, 40, 0, 0, 200]
    assert table.loc["<100", "q8"] == pytest.approx(15 / 30)  # pooled, not (0.5 + 0.5) / 2
    assert table.loc["<100", "q3"] == pytest.approx(23 / 30)
    assert table.loc["100-199", "q8"] == pytest.approx(0.75)
    assert math.isnan(table.loc["200-299", "q8"])
    assert table.loc[">=500", "q8"] == pytest.approx(0.5)


def test_evaluate_predictions_new_metrics() -> None:
    h, e, c = (SS8.index(x) for x in "HEC")
    true8 = [np.array([h, h, h, c, e, e]), np.array([c, c, e, e])]
    pred8 = [np.array([h, h, h, c, e, e]), np.array([c, c, c, c])]
    true3 = [reduce_ss8_to_ss3(t) for t in true8]
    pred3 = [reduce_ss8_to_ss3(p) for p in pred8]
    masks = [np.ones(6), np.array([1, 1, 1, 0])]
    res = evaluate_predictions(
        true8,
        [one_hot(list(p), 8) for p in pred8],
        true3,
        [one_hot(list(p), 3) for p in pred3],
        masks,
    )
    np.testing.assert_array_equal(res["per_protein_correct_ss8"], [6, 2])
    np.testing.assert_array_equal(res["per_protein_total_ss8"], [6, 3])
    np.testing.assert_array_equal(res["per_protein_correct_ss3"], [6, 2])
    np.testing.assert_array_equal(res["per_protein_length"], [6, 4])
    # protein 1 is perfect: SOV 1. Protein 2, observed CCE vs CCC: the C pair scores
    # (minov 2 + delta 1) / maxov 3 * len 2 = 2, the E segment is missed; N = 2 + 1 -> 2/3
    np.testing.assert_allclose(res["per_protein_sov99_ss8"], [1.0, 2 / 3])
    assert res["sov99_ss8"] == pytest.approx((1 + 2 / 3) / 2)
    assert res["sov99_ss3"] == pytest.approx((1 + 2 / 3) / 2)
    assert "mean over proteins" in res["sov_averaging"] and res["sov_n_proteins"] == 2
    assert 0 < res["sov_refine_ss8"] <= 1
    # macro-F1 ss8: H 1; E: TP 2, support 3, predicted 2 -> 4/5; C: TP 3, support 3,
    # predicted 4 -> 6/7
    assert res["macro_f1_ss8"] == pytest.approx((1 + 0.8 + 6 / 7) / 3)
    # confidence 0.9 everywhere (one_hot), 8 of 9 right -> ECE |8/9 - 0.9|
    assert res["ece_ss8"] == pytest.approx(abs(8 / 9 - 0.9), abs=1e-6)
    assert len(res["calibration_ss8"]) == 15 and res["calibration_bins"] == 15
    assert list(res["length_bins"]["n_proteins"]) == [2, 0, 0, 0, 0]
    # label predictions: no calibration
    labels = evaluate_predictions(true8, pred8, true3, pred3, masks, sov=False)
    assert math.isnan(labels["ece_ss8"]) and labels["calibration_ss8"]["n"].sum() == 0
    assert "sov99_ss8" not in labels
