"""Video I/O: probe, decode frames by index (streaming, with seeking), write browser-playable MP4.

Frames are RGB ``uint8`` arrays of shape ``(H, W, 3)``, numbered from 0 in presentation order.
Reading lives in :mod:`.read`, writing in :mod:`.write`; everything public is imported here.
"""

from ovhhir_core.video.read import (
    ABSURD_FRAMES,
    ABSURD_SIDE,
    VideoError,
    VideoInfo,
    iter_frames,
    probe,
    read_frame,
    sample_frames,
    sample_indices,
    scaled_size,
)
from ovhhir_core.video.write import VideoWriter, write_video

__all__ = [
    "ABSURD_FRAMES",
    "ABSURD_SIDE",
    "VideoError",
    "VideoInfo",
    "VideoWriter",
    "iter_frames",
    "probe",
    "read_frame",
    "sample_frames",
    "sample_indices",
    "scaled_size",
    "write_video",
]
