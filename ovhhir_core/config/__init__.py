"""Configuration dataclasses, strict dict/JSON round trip, and named presets.

A preset is a JSON file under ``ovhhir_core/presets/``. Each section (click segmenter, tracker,
model, sentence embedder, zero-shot answerer, timeline thresholds) is a plain dataclass with its
defaults written once; the sections live in this package (``config.tracking``, ``config.model``,
``config.zeroshot``, ``config.timeline``) so
that reading a preset imports no other package of ``ovhhir_core`` (every package may import this
one, never the reverse; a new section goes here too). Presets only
override what differs from those defaults, and a preset may ``"extend": "<other preset>"``: it then
starts from that preset and changes only what it names (see :func:`merge_preset_data`).

Two words, two meanings:

- ``weights`` (a preset field): the *name* of pretrained weights, a key of
  :data:`ovhhir_core.weights.hub.PRETRAINED`, or ``None`` for a random-weight build of the same
  architecture, sized by ``arch`` (see :class:`~ovhhir_core.config.weights.WeightsConfig`).
- ``local_path`` (a preset field): a local file or folder that replaces those weights. At the edge
  (CLI, app) it comes from the *local weights path override* ``--weights COMPONENT=PATH`` or from
  the ``OVHHIR_<COMPONENT>_PATH`` environment variable: the edge reads the environment once
  (:func:`env_local_paths` over the mapping it is given) and passes the paths to
  :func:`load_preset`, which never reads the environment itself.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "model": ("ModelConfig",),
    "preset": (
        "COMPONENTS",
        "PRESET_DIR",
        "AutoConfig",
        "ConfigError",
        "EmbedderConfig",
        "PresetConfig",
        "env_local_paths",
        "from_dict",
        "list_presets",
        "load_preset",
        "merge_preset_data",
        "parse_local_paths",
        "preset_timeline",
        "to_dict",
        "to_json",
    ),
    "timeline": ("TimelineConfig",),
    "tracking": ("DetectorConfig", "SamConfig", "TrackerConfig"),
    "weights": ("WeightsConfig",),
    "zeroshot": ("ZeroShotConfig",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
