"""Evaluation of OV-HHIR: the paper's metrics, classifiers over generated text, reports.

Public names::

    from ovhhir_core.eval import rank_classes, map_answer_to_class, macro_f1, cosine_similarity

``python -m ovhhir_core evaluate`` (:mod:`ovhhir_core.commands.evaluate`, over :mod:`ovhhir_core.eval.evaluate`) runs the whole evaluation.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "classify": ("ClassMatch", "map_answer_to_class", "nearest_class", "rank_classes"),
    "metrics": ("cosine_similarity", "macro_f1", "mean_std"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
