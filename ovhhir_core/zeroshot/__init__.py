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
``engine`` (the encoded video prefix, the model step over it, scoring; the decoding loop itself is
the shared one of :mod:`ovhhir_core.answering.decoding`) and ``answerer`` (the conversations and
:func:`load_zeroshot_answerer`). Names are imported lazily: importing this package loads no model
and no transformers code.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "answerer": ("ZeroShotAnswerer", "load_zeroshot_answerer"),
    "config": ("ZeroShotConfig",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
