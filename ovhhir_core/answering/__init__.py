"""The answerer boundary: what every answerer shares, and which one answers.

- ``base``: the tracked clip, the generation settings, the provenance shown beside every answer,
  the ``Answerer`` interface and the :class:`Conversation` every answerer's conversations
  subclass (history, ``ask``, ``regenerate``, ``clear``, input checks);
- ``decoding``: sampling filters, the token loop over a ``step(ids, cache) -> logits`` function,
  beam search and text streaming, shared by the OV-HHIR and the zero-shot answerers;
- ``backends``: ``--backend auto|ovhhir|zeroshot``, which answerer answers.

Names are imported lazily (decoding needs torch; ``--help`` and the app's settings must not).
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "base": (
        "Answerer",
        "Conversation",
        "GenerationConfig",
        "Provenance",
        "TrackedClip",
        "check_question",
    ),
    "backends": (
        "BACKENDS",
        "WithWarning",
        "default_frames",
        "load_answerer",
        "load_ovhhir",
        "load_zeroshot",
        "track_dir_facts",
    ),
    "decoding": ("beam_search", "generate_tokens", "sample_tokens", "stream_text"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
