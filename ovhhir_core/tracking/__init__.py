"""Click-to-track: SAM click masks, SAM 2.1 propagation, per-user sessions.

>>> segs = load_segmenters(load_preset("tiny"), torch.device("cpu"))  # shared, read-only
>>> session = TrackingSession(segs, "clip.mp4")                        # one per user per video
>>> mask = session.add_points(0, "person_1", [(120, 80)], [1])        # (H, W) bool
>>> for frame_idx, label_map in session.propagate(): ...               # (H, W) uint8, 0 = bg

Names are imported lazily: importing this package's ``config`` module must not pull in torch,
transformers and segment-anything.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SamConfig": "ovhhir_core.tracking.config",
    "TrackerConfig": "ovhhir_core.tracking.config",
    "TrackingError": "ovhhir_core.tracking.errors",
    "LabelStore": "ovhhir_core.tracking.labels",
    "Segmenters": "ovhhir_core.tracking.models",
    "load_segmenters": "ovhhir_core.tracking.models",
    "TrackingSession": "ovhhir_core.tracking.session",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ovhhir_core.tracking' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
