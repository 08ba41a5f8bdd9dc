"""Pure metric functions of the paper's evaluation: cosine similarity, macro-F1, mean ± std.

No model, no I/O: numpy in, numbers out. Macro-F1 follows scikit-learn's
``f1_score(average="macro")`` (labels default to the sorted union of true and predicted labels;
a class with no true and no predicted sample scores 0), and the tests hold it to that reference.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np


def cosine_similarity(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise cosine similarity of two equally shaped batches of vectors.

    Args:
        a, b: (N, D) or (D,) float arrays (any scale; they are normalised here).
    Returns:
        (N,) float64 array in [-1, 1] (a 0-d array for (D,) inputs). A zero vector scores 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cosine_similarity: shapes differ, {a.shape} vs {b.shape}")
    dot = (a * b).sum(axis=-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return dot / np.maximum(norms, eps)


def cosine_matrix(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """All-pairs cosine similarity: (N, D) × (M, D) → (N, M) float64 in [-1, 1]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), eps)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), eps)
    return a @ b.T


def mean_std(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``{"mean", "std", "n"}`` of a list of numbers; std is the population std (ddof=0).

    An empty list gives NaN mean and std and n = 0.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {"mean": float(arr.mean()), "std": float(arr.std()), "n": int(arr.size)}


def _labels(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None
) -> list[Hashable]:
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if labels is not None:
        return list(labels)
    return sorted(set(y_true) | set(y_pred), key=str)


def confusion_matrix(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> tuple[np.ndarray, list]:
    """Counts ``C[i, j]`` of samples of true class ``labels[i]`` predicted as ``labels[j]``.

    Returns:
        ((K, K) int64 matrix, labels). Pairs whose true or predicted label is not in ``labels``
        are not counted.
    """
    labels = _labels(y_true, y_pred, labels)
    index = {lab: i for i, lab in enumerate(labels)}
    mat = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            mat[index[t], index[p]] += 1
    return mat, labels


def per_class_f1(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> dict[Hashable, dict[str, float]]:
    """Precision, recall, F1 and support of each class (one-vs-rest counts over all samples).

    Returns:
        ``{label: {"precision", "recall", "f1", "support"}}``, values in [0, 1]; an undefined
        ratio (0/0) is 0, as in scikit-learn with ``zero_division=0``.
    """
    labels = _labels(y_true, y_pred, labels)
    t_list, p_list = list(y_true), list(y_pred)
    out: dict[Hashable, dict[str, float]] = {}
    for lab in labels:
        is_t = np.fromiter((x == lab for x in t_list), dtype=bool, count=len(t_list))
        is_p = np.fromiter((x == lab for x in p_list), dtype=bool, count=len(p_list))
        tp = int(np.sum(is_t & is_p))
        fp = int(np.sum(~is_t & is_p))
        fn = int(np.sum(is_t & ~is_p))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        out[lab] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return out


def macro_f1(
    y_true: Sequence[Hashable], y_pred: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> float:
    """Unweighted mean of per-class F1 over ``labels`` (default: union of true and predicted).

    Returns a float in [0, 1]; NaN when there are no samples and no labels.
    """
    scores = per_class_f1(y_true, y_pred, labels)
    if not scores:
        return float("nan")
    return float(np.mean([s["f1"] for s in scores.values()]))


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Fraction of exact matches, in [0, 1]; NaN for empty input."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if not y_true:
        return float("nan")
    return float(np.mean([a == b for a, b in zip(y_true, y_pred, strict=True)]))


def group_mean_std(values: Sequence[float], groups: Sequence[str]) -> dict[str, dict[str, float]]:
    """``mean_std`` of ``values`` within each group (e.g. source dataset), plus ``"all"``."""
    if len(values) != len(groups):
        raise ValueError(f"{len(values)} values but {len(groups)} group names")
    by: dict[str, list[float]] = {}
    for v, g in zip(values, groups, strict=True):
        by.setdefault(g, []).append(v)
    out = {g: mean_std(vs) for g, vs in sorted(by.items())}
    out["all"] = mean_std(values)
    return out


def macro_f1_by_group(
    y_true: Sequence[Hashable],
    y_pred: Sequence[Hashable],
    groups: Sequence[str],
    labels_by_group: Mapping[str, Sequence[Hashable]] | None = None,
) -> dict[str, float]:
    """Macro-F1 within each group (e.g. per source dataset), plus ``"all"`` over every sample.

    ``labels_by_group`` optionally fixes the class list a group is averaged over; by default each
    group averages over the union of its own true and predicted labels.
    """
    if not len(y_true) == len(y_pred) == len(groups):
        raise ValueError("y_true, y_pred and groups must have the same length")
    out: dict[str, float] = {}
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        labels = labels_by_group.get(g) if labels_by_group else None
        out[g] = macro_f1([y_true[i] for i in idx], [y_pred[i] for i in idx], labels)
    out["all"] = macro_f1(list(y_true), list(y_pred))
    return out
