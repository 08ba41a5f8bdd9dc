"""Label maps for the frames between tracked frames: held still, or carried by dense optical flow.

When the tracker runs at a lower rate than the video (:mod:`ovhhir_core.tracking.rate`), every
frame it skips takes the label map of the nearest tracked frame. ``hold`` copies that map as it is,
so a moving person's mask lags behind them by up to half a stride. ``flow`` moves the map with the
motion between the two frames: DIS optical flow (OpenCV) from the skipped frame to the tracked one,
computed on small grey copies (longest side :data:`FLOW_SIDE`), then each pixel of the skipped
frame takes the label of the point it came from (nearest-neighbour backward warp at full size).

:class:`BetweenFrames` does this as frames stream past during tracking, keeping only the small grey
copies of frames still waiting for their tracked neighbour, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import cv2
import numpy as np

from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.tracking.rate import nearest

#: Ways to fill the frames between tracked frames.
MODES = ("flow", "hold")
#: Longest side (pixels) of the grey copies the optical flow is computed on.
FLOW_SIDE = 320


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`, else a :class:`TrackingError` naming them."""
    if mode not in MODES:
        raise TrackingError(f"unknown in-between mode {mode!r}; use {' or '.join(MODES)}")
    return mode


def small_grey(frame: np.ndarray, side: int = FLOW_SIDE) -> np.ndarray:
    """(h, w) uint8 grey copy of an (H, W, 3) RGB frame, longest side at most ``side``."""
    h, w = frame.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale < 1.0:
        frame = cv2.resize(
            frame,
            (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)


def carry(
    label_map: np.ndarray,
    grey_from: np.ndarray,
    grey_to: np.ndarray,
    cache: dict | None = None,
) -> np.ndarray:
    """``label_map`` (of the frame ``grey_from`` shows) moved to the frame ``grey_to`` shows.

    Flow is computed from ``grey_to`` to ``grey_from`` (where each pixel of the target frame came
    from), scaled to the label map's size, and the labels are sampled there (nearest); pixels
    whose source lies outside the frame become background. ``cache`` (a dict the caller keeps)
    holds the flow solver and the pixel grid between calls."""
    h, w = label_map.shape
    cache = {} if cache is None else cache
    dis = cache.get("dis") or cache.setdefault(
        "dis", cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    )
    flow = dis.calc(grey_to, grey_from, None)  # grey_to(p) ~ grey_from(p + flow(p))
    sh, sw = grey_to.shape
    if (sh, sw) != (h, w):
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= w / sw
        flow[..., 1] *= h / sh
    if cache.get("size") != (h, w):
        cache["size"] = (h, w)
        cache["grid"] = np.stack(
            np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)), axis=-1
        )
    flow += cache["grid"]
    return cv2.remap(
        label_map,
        flow,
        None,
        interpolation=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


class BetweenFrames:
    """Fills the skipped frames of one tracking run as their tracked neighbours come in.

    Call :meth:`see` for every decoded frame of the range (tracked or skipped), and
    :meth:`tracked` with each tracked frame's final label map; :meth:`tracked` returns the skipped
    frames that can now be filled, as ``(frame_idx, label map)``. Grey copies are kept only until
    their frame (or, for a tracked frame, every frame that depends on it) is filled.
    """

    def __init__(self, frames: Sequence[int], start: int, end: int, mode: str = "flow") -> None:
        self.mode = check_mode(mode)
        self._nearest = nearest(frames, start, end)
        self._waiting: dict[int, list[int]] = {}  # tracked frame -> skipped frames seen
        self._left: dict[int, int] = {}  # tracked frame -> skipped frames not filled yet
        for k in self._nearest.values():
            self._left[k] = self._left.get(k, 0) + 1
        self._grey: dict[int, np.ndarray] = {}
        self._maps: dict[int, np.ndarray] = {}
        self._cache: dict = {}  # the flow solver and pixel grid, reused

    def see(self, frame_idx: int, frame: np.ndarray) -> None:
        """Note a decoded frame (keeps a small grey copy when ``flow`` needs it)."""
        needed = frame_idx in self._nearest or self._left.get(frame_idx, 0) > 0
        if not needed or frame_idx in self._grey:
            return
        if self.mode == "flow":
            self._grey[frame_idx] = small_grey(frame)
        if frame_idx in self._nearest:
            self._waiting.setdefault(self._nearest[frame_idx], []).append(frame_idx)

    def tracked(self, frame_idx: int, label_map: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Record a tracked frame's label map; returns the skipped frames filled now."""
        if self._left.get(frame_idx, 0) > 0:
            self._maps[frame_idx] = label_map
        return self.ready()

    def ready(self) -> list[tuple[int, np.ndarray]]:
        """Every skipped frame whose tracked neighbour and own frame have both been seen."""
        out = []
        for k in [k for k in self._waiting if k in self._maps]:
            for f in sorted(self._waiting.pop(k)):
                out.append((f, self._fill(f, k)))
        return out

    def _fill(self, f: int, k: int) -> np.ndarray:
        label_map = self._maps[k]
        if self.mode == "flow":
            filled = carry(label_map, self._grey[k], self._grey.pop(f), self._cache)
        else:
            filled = label_map.copy()
        self._left[k] -= 1
        if self._left[k] == 0:
            self._maps.pop(k, None)
            self._grey.pop(k, None)
        return filled

    def pending(self) -> int:
        """How many grey copies are held now (bounded by about two strides in a steady run)."""
        return len(self._grey)


def observed(source, between: BetweenFrames, keep: Iterable[int]):
    """A frame source (``source(lo, hi, reverse)``) that shows every frame to ``between`` and
    yields only the frames in ``keep`` (the tracked ones)."""
    keep = set(keep)

    def filtered(lo: int, hi: int, reverse: bool) -> Iterator[tuple[int, np.ndarray]]:
        for frame_idx, frame in source(lo, hi, reverse):
            between.see(frame_idx, frame)
            if frame_idx in keep:
                yield frame_idx, frame

    return filtered
