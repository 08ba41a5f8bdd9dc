"""Click-to-track: SAM click masks, SAM 2.1 propagation, per-user sessions.

>>> segs = load_segmenters(load_preset("tiny"), torch.device("cpu"))  # shared, read-only
>>> session = TrackingSession(segs, "clip.mp4")                        # one per user per video
>>> mask = session.add_points(0, "person_1", [(120, 80)], [1])        # (H, W) bool
>>> for frame_idx, label_map in session.propagate(): ...               # (H, W) uint8, 0 = bg

Names are imported lazily: importing this package's ``config`` module must not pull in torch,
transformers and segment-anything.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "config": ("SamConfig", "TrackerConfig"),
    "errors": ("TrackingError",),
    "labels": ("LabelStore",),
    "models": ("Segmenters", "load_segmenters"),
    "session": ("TrackingSession",),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
