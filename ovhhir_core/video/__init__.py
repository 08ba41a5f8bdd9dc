"""Video I/O: probe, decode frames by index (streaming, with seeking), write browser-playable MP4.

Frames are RGB ``uint8`` arrays of shape ``(H, W, 3)``, numbered from 0 in presentation order.
Reading lives in :mod:`.read`, writing in :mod:`.write`; everything public is exported here
and imported on first use.
"""

from __future__ import annotations

from ovhhir_core.lazy import lazy_exports

#: module -> the public names it defines, imported on first use
_EXPORTS = {
    "read": (
        "ABSURD_FRAMES",
        "ABSURD_SIDE",
        "VideoError",
        "VideoInfo",
        "iter_frames",
        "probe",
        "read_frame",
        "sample_frames",
        "sample_indices",
        "scaled_size",
    ),
    "write": ("VideoWriter", "write_video"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
