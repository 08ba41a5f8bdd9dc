"""Pretrained weights: which checkpoints exist, where they are found, whether a file is whole.

- ``pretrained``: :data:`PRETRAINED`, the table of known checkpoints (Hub ids, URLs, sizes,
  SHA-256, licences) and :class:`WeightSpec`;
- ``hub``: :func:`resolve_weights`, the one entry point (local path, cache, lazy download) and
  :class:`MissingWeightsError`;
- ``weightfiles``: integrity checks of files on disk (truncated, corrupt, wrong checkpoint);
- ``downloads``: download progress, a bar on stderr and the board the app's model panel reads;
- ``autopreset``: the ``auto`` preset, per component the best weights this machine can have.

Names are imported lazily: nothing here downloads, or imports ``huggingface_hub``, on import.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "autopreset": ("resolution_report", "resolve_auto"),
    "downloads": ("BOARD", "DownloadBoard", "progress_bar"),
    "hub": ("MissingWeightsError", "load_checked_config", "obtainable", "resolve_weights"),
    "pretrained": ("PRETRAINED", "WeightSpec"),
    "weightfiles": ("IncompleteWeightsError", "WeightsFileError", "check_path"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
