"""Metrics against reference implementations (scikit-learn, hand-computed values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import f1_score

from ovhhir_core.eval import metrics

Y_TRUE = ["hug", "punch", "punch", "wave", "hug", "kick", "wave", "wave"]
Y_PRED = ["hug", "punch", "hug", "wave", "punch", "punch", "wave", "kiss"]


def test_macro_f1_equals_sklearn_on_fixed_inputs():
    ours = metrics.macro_f1(Y_TRUE, Y_PRED)
    ref = f1_score(Y_TRUE, Y_PRED, average="macro", zero_division=0)
    assert ours == pytest.approx(ref, abs=1e-12)
    # hand-computed: hug 1/2, punch 2/5, wave 4/5, kick 0, kiss 0 -> mean 0.34
    assert ours == pytest.approx((0.5 + 0.4 + 0.8 + 0 + 0) / 5)


def test_macro_f1_with_fixed_label_list_equals_sklearn():
    labels = ["hug", "punch", "wave", "kick", "kiss", "bow"]  # "bow" never occurs: F1 = 0
    ours = metrics.macro_f1(Y_TRUE, Y_PRED, labels=labels)
    ref = f1_score(Y_TRUE, Y_PRED, labels=labels, average="macro", zero_division=0)
    assert ours == pytest.approx(ref, abs=1e-12)


def test_macro_f1_random_labels_match_sklearn():
    rng = np.random.default_rng(0)
    classes = [f"c{i}" for i in range(7)]
    for _ in range(5):
        t = list(rng.choice(classes, 50))
        p = list(rng.choice(classes, 50))
        assert metrics.macro_f1(t, p) == pytest.approx(
            f1_score(t, p, average="macro", zero_division=0), abs=1e-12
        )


def test_perfect_and_all_wrong():
    assert metrics.macro_f1(["a", "b"], ["a", "b"]) == 1.0
    assert metrics.macro_f1(["a", "a"], ["b", "b"]) == 0.0


def test_per_class_f1_counts():
    pc = metrics.per_class_f1(Y_TRUE, Y_PRED)
    assert pc["wave"] == {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    assert pc["kiss"]["support"] == 0 and pc["kiss"]["f1"] == 0.0


def test_confusion_matrix_equals_sklearn():
    labels = ["hug", "kick", "kiss", "punch", "wave"]
    ours, got_labels = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    assert got_labels == labels
    np.testing.assert_array_equal(ours, sk_confusion(Y_TRUE, Y_PRED, labels=labels))


def test_cosine_hand_computed():
    a = np.array([[1.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    b = np.array([[0.0, 5.0], [2.0, 4.0], [-4.0, 3.0]])
    np.testing.assert_allclose(metrics.cosine_similarity(a, b), [0.0, 1.0, 0.0], atol=1e-12)
    c = np.array([1.0, 2.0, 2.0])
    d = np.array([2.0, 0.0, 1.0])
    # (1*2 + 0 + 2*1) / (3 * sqrt(5))
    assert float(metrics.cosine_similarity(c, d)) == pytest.approx(4 / (3 * math.sqrt(5)))
    assert float(metrics.cosine_similarity(c, -c)) == pytest.approx(-1.0)


def test_cosine_matrix_matches_rowwise():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(3, 6))
    m = metrics.cosine_matrix(a, b)
    assert m.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert m[i, j] == pytest.approx(float(metrics.cosine_similarity(a[i], b[j])))


def test_cosine_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.cosine_similarity(np.ones((2, 3)), np.ones((3, 3)))


def test_mean_std_and_groups():
    assert metrics.mean_std([1.0, 2.0, 3.0, 4.0]) == {
        "mean": 2.5,
        "std": pytest.approx(math.sqrt(1.25)),
        "n": 4,
    }
    assert math.isnan(metrics.mean_std([])["mean"])
    g = metrics.group_mean_std([0.2, 0.4, 0.9], ["A", "A", "B"])
    assert g["A"]["mean"] == pytest.approx(0.3) and g["B"]["n"] == 1
    assert g["all"]["mean"] == pytest.approx(0.5)


def test_macro_f1_by_group():
    groups = ["X", "X", "X", "Y", "Y", "Y", "Y", "Y"]
    got = metrics.macro_f1_by_group(Y_TRUE, Y_PRED, groups)
    assert got["X"] == pytest.approx(f1_score(Y_TRUE[:3], Y_PRED[:3], average="macro"))
    assert got["Y"] == pytest.approx(
        f1_score(Y_TRUE[3:], Y_PRED[3:], average="macro", zero_division=0)
    )
    assert got["all"] == pytest.approx(metrics.macro_f1(Y_TRUE, Y_PRED))


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        metrics.macro_f1(["a"], ["a", "b"])
