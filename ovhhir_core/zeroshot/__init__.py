"""Zero-shot answers about a tracked clip from a pretrained video-LLM (SmolVLM2, Qwen3-VL).

The model sees the clip rebuilt from its streams with Person 1 and Person 2 tinted, outlined and
labelled in two named colours, sampled uniformly and passed as a video with its frame rate;
``<p1>`` ``<p2>`` ``<bg>`` in questions become the words the model was told. It implements the
answerer boundary (:mod:`ovhhir_core.answering`) with name ``"zeroshot"``; grounded only when real
pretrained weights are loaded.

Modules: ``config`` (the preset section), ``families`` (one table entry per model family: chat
template, end tokens, frame geometry, vision tower, tiny build), ``templates``, ``loading``
(weights, random tiny builds via ``tiny``; ``standin`` builds random-weight models from published
files), ``frames`` (sampling, rebuilding the clip, letterboxing), ``marks``, ``prompts``,
``engine`` (the encoded video prefix, decoding, scoring) and ``answerer``. Importing this package loads no model and no
transformers code.
"""

from __future__ import annotations

from typing import Any

from .config import ZeroShotConfig

__all__ = ["ZeroShotConfig", "load_zeroshot_answerer"]


def load_zeroshot_answerer(preset: Any, device: Any = "cpu", dtype: Any = None):
    """The zero-shot answerer of ``preset`` (its ``zeroshot`` section) on ``device``.

    Raises :class:`~ovhhir_core.hub.MissingWeightsError` when the weights cannot be had.
    """
    from .answerer import ZeroShotAnswerer
    from .loading import load_model

    cfg = preset.zeroshot
    return ZeroShotAnswerer(load_model(cfg, device, dtype), cfg, preset.name)
