"""Evaluation of OV-HHIR: the paper's metrics, classifiers over generated text, reports.

Public names::

    from ovhhir_core.eval import rank_classes, map_answer_to_class, macro_f1, cosine_similarity

``python -m ovhhir_core evaluate`` (:mod:`ovhhir_core.commands.evaluate`, over :mod:`ovhhir_core.eval.evaluate`) runs the whole evaluation.
"""

from ovhhir_core.eval.classify import (
    ClassMatch,
    map_answer_to_class,
    nearest_class,
    rank_classes,
)
from ovhhir_core.eval.metrics import cosine_similarity, macro_f1, mean_std

__all__ = [
    "ClassMatch",
    "cosine_similarity",
    "macro_f1",
    "map_answer_to_class",
    "mean_std",
    "nearest_class",
    "rank_classes",
]
