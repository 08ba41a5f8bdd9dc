"""Split frames into the paper's three streams with per-frame label maps, and write them.

``person_1`` keeps the pixels labelled 1, ``person_2`` those labelled 2, ``background`` everything
except labels 1 and 2 (other people, labels 3+, stay in the background). Removed pixels get
``fill`` (black by default). Frames are streamed: one frame in memory at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

from ovhhir_core import video

STREAM_SUFFIXES = {"person_1": "_p1.mp4", "person_2": "_p2.mp4", "background": "_bg.mp4"}


def split_frame(
    frame: np.ndarray, label_map: np.ndarray | None, fill: int = 0
) -> dict[str, np.ndarray]:
    """The three streams of one frame.

    ``frame`` is (H, W, 3) uint8 RGB; ``label_map`` is (H, W) uint8 (0 background, 1 person 1,
    2 person 2, 3+ other people) or None (no label: nobody segmented). Returns (H, W, 3) uint8
    arrays keyed ``person_1``, ``person_2``, ``background``.
    """
    if label_map is None:
        label_map = np.zeros(frame.shape[:2], np.uint8)
    if label_map.shape != frame.shape[:2]:
        raise ValueError(f"label map {label_map.shape} does not match frame {frame.shape[:2]}")
    p1, p2 = label_map == 1, label_map == 2
    out = {}
    for name, keep in (("person_1", p1), ("person_2", p2), ("background", ~(p1 | p2))):
        img = np.full_like(frame, fill)
        img[keep] = frame[keep]
        out[name] = img
    return out


def stream_paths(prefix: str | os.PathLike) -> dict[str, Path]:
    """``{"person_1": <prefix>_p1.mp4, "person_2": <prefix>_p2.mp4, "background": <prefix>_bg.mp4}``."""
    prefix = str(prefix)
    return {name: Path(prefix + suffix) for name, suffix in STREAM_SUFFIXES.items()}


def write_streams(
    frames: Iterable[tuple[int, np.ndarray]],
    labels: Mapping[int, np.ndarray] | Callable[[int], np.ndarray | None],
    prefix: str | os.PathLike,
    fps: float,
    fill: int = 0,
) -> dict[str, Path]:
    """Write the three stream videos ``<prefix>_p1.mp4``, ``_p2.mp4``, ``_bg.mp4`` (H.264).

    ``frames`` yields ``(frame_idx, (H, W, 3) uint8)``; ``labels`` gives the (H, W) uint8 label
    map of a frame (a mapping or a function; a frame without one has nobody segmented). Returns
    the paths keyed by stream name. On error no half-written stream is left behind.
    """
    paths = stream_paths(prefix)
    get = labels.get if isinstance(labels, Mapping) else labels
    writers = {name: video.VideoWriter(path, fps) for name, path in paths.items()}
    try:
        count = 0
        for frame_idx, frame in frames:
            label_map = get(frame_idx)
            if label_map is not None and label_map.shape != frame.shape[:2]:
                label_map = _resize_labels(label_map, frame.shape[1], frame.shape[0])
            for name, img in split_frame(frame, label_map, fill).items():
                writers[name].write(img)
            count += 1
        if count == 0:
            raise video.VideoError(f"no frames to write for {prefix}")
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    return paths


def _resize_labels(label_map: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(label_map, (width, height), interpolation=cv2.INTER_NEAREST)
