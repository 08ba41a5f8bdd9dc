"""Tracking at a lower frame rate than the video's, and the cost of a tracking run.

Long clips track faster when the tracker sees only every k-th frame (e.g. 10 of a 30 fps clip's
frames per second). The streams are still written at the source rate: each skipped frame takes the
label map of the nearest processed frame, held still or carried by optical flow
(:mod:`ovhhir_core.tracking.flow`). Annotated frames, the first and the last frame of the range are
always processed.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from ovhhir_core.tracking.errors import TrackingError


def stride(video_fps: float, track_fps: float | None) -> int:
    """Process every ``stride``-th frame (1 = every frame) to track at about ``track_fps``."""
    if not track_fps:
        return 1
    if track_fps < 0:
        raise TrackingError(f"tracking rate must be positive, got {track_fps} fps")
    return max(1, round(video_fps / track_fps))


def processed_frames(
    start: int, end: int, anchors: Collection[int], video_fps: float, track_fps: float | None
) -> list[int] | None:
    """The frames of [start, end) the tracker runs on: a grid through the first annotated frame,
    plus every annotated frame and both ends of the range; None when that is every frame."""
    step = stride(video_fps, track_fps)
    if step == 1:
        return None
    origin = min(anchors) if anchors else start
    keep = {f for f in range(start, end) if (f - origin) % step == 0}
    keep |= {f for f in anchors if start <= f < end} | {start, end - 1}
    return sorted(keep)


def estimated_frames(num_frames: int, video_fps: float, track_fps: float | None) -> int:
    """About how many frames a run over ``num_frames`` frames processes (the cost shown)."""
    step = stride(video_fps, track_fps)
    return min(num_frames, -(-num_frames // step) + 1) if step > 1 else num_frames


def nearest(frames: Collection[int], start: int, end: int) -> dict[int, int]:
    """``{skipped frame: nearest processed frame}`` over [start, end) (the earlier on a tie)."""
    have = np.asarray(sorted(frames))
    if have.size == 0:
        return {}
    keep, out = {int(f) for f in have}, {}
    for f in range(start, end):
        if f in keep:
            continue
        i = int(np.searchsorted(have, f))
        before = int(have[i - 1]) if i > 0 else None
        after = int(have[i]) if i < have.size else None
        near_before = after is None or (before is not None and f - before <= after - f)
        out[f] = before if near_before else after
    return out
