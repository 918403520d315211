"""Hand-computed checks of protrnn.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from protrnn.alphabet import SS3, SS8
from protrnn.metrics import (
    accuracy,
    confusion_matrix,
    evaluate_predictions,
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
        true8, [one_hot(list(p), 8) for p in pred8], true3, [one_hot(list(p), 3) for p in pred3],
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
        [np.array([0, 0]), np.array([3])], [np.array([0, 1]), np.array([3])],
        [np.array([0, 0]), np.array([1])], [np.array([0, 1]), np.array([1])],
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
        evaluate_predictions([np.array([0])], [np.ones((1, 3))], [np.array([0])],
                             [np.ones((1, 3))], [np.ones(1)])
