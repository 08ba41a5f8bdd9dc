"""The frames a zero-shot model sees: the tracked clip rebuilt from its three streams.

Each stream holds one part of the source frame (person 1 only, person 2 only, the background
without them; removed pixels are the clip's ``fill``), so pasting each part back where its label
map says rebuilds the source frame, and the same label maps say exactly where to mark each person.
Without ``masks.npz`` the label maps come from the person streams' non-``fill`` pixels.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ovhhir_core.answering.base import TrackedClip
from ovhhir_core.errors import UserError
from ovhhir_core.streams import BACKGROUND, LABEL_VALUES, PERSONS
from ovhhir_core.video import probe, sample_frames

#: A pixel of a person stream further than this (sum of |RGB - fill|) from the fill is the person
#: (lossy video moves the fill colour by a few levels, rarely more than ~30 in sum).
FILL_TOLERANCE = 60


@dataclass
class SampledClip:
    """``frames``: (T, H, W, 3) uint8 rebuilt source frames; ``labels``: (T, H, W) uint8 label
    maps; ``streams``: stream name -> (T, H, W, 3) sampled stream frames; ``indices``: the
    sampled frame numbers; ``fps`` and ``num_frames`` of the streams."""

    frames: np.ndarray
    labels: np.ndarray
    indices: list[int]
    fps: float
    num_frames: int
    streams: dict[str, np.ndarray] = field(default_factory=dict)

    def metadata(self) -> dict:
        """The ``video_metadata`` entry transformers' video processors expect."""
        fps = self.fps or 24.0
        return {
            "fps": fps,
            "total_num_frames": self.num_frames,
            "duration": self.num_frames / fps,
            "frames_indices": list(self.indices),
        }


def _read_label_maps(path: Path, pick=None) -> dict[int, np.ndarray]:
    """The label maps of a track folder's ``masks.npz``, or of its ``masks.zip`` (indexed PNGs);
    ``pick``: which frames (:data:`ovhhir_core.masking.Pick`; default all)."""
    from ovhhir_core.masking import MaskingError, load_masks_npz, load_masks_png_zip

    load = load_masks_png_zip if path.suffix.lower() == ".zip" else load_masks_npz
    try:
        return load(path, pick)
    except MaskingError as exc:
        raise UserError(
            f"{path} is not a readable masks.npz ({exc}); track the clip again"
        ) from exc


def _labels_from_masks(path: Path, indices: list[int], size: tuple[int, int]) -> np.ndarray:
    """Label maps of the sampled stream frames. ``masks.npz`` is keyed by source frame number;
    stream frame 0 is the first tracked frame (the smallest key). Only those maps are read: a
    long clip's masks need not fit in memory."""
    offset = 0

    def pick(keys: list[int]) -> list[int]:
        nonlocal offset
        offset = keys[0] if keys else 0
        return [offset + idx for idx in indices]

    maps = _read_label_maps(path, pick)
    h, w = size
    out = np.zeros((len(indices), h, w), np.uint8)
    for i, idx in enumerate(indices):
        label = maps.get(offset + idx)
        if label is None:
            continue
        if label.shape != (h, w):
            label = cv2.resize(label.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        out[i] = label
    return out


def _labels_from_fill(streams: dict[str, np.ndarray], fill: np.ndarray) -> np.ndarray:
    first = streams[PERSONS[0]]
    labels = np.zeros(first.shape[:3], np.uint8)
    for person in PERSONS:
        distance = np.abs(streams[person].astype(np.int16) - fill.astype(np.int16)).sum(-1)
        labels[(distance > FILL_TOLERANCE) & (labels == 0)] = LABEL_VALUES[person]
    return labels


def compose(streams: dict[str, np.ndarray], labels: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Rebuild the source frames: each label's pixels from its stream, the rest from the
    background stream (or ``fill`` when the clip has none)."""
    if BACKGROUND in streams:
        frames = streams[BACKGROUND].copy()
    else:
        frames = np.empty_like(streams[PERSONS[0]])
        frames[...] = fill
    for person in PERSONS:
        where = labels == LABEL_VALUES[person]
        frames[where] = streams[person][where]
    return frames


def sample_clip(clip: TrackedClip, frames: int, max_side: int | None = 512) -> SampledClip:
    """Sample ``frames`` frames uniformly from every stream of ``clip`` and rebuild the source."""
    first = clip.streams[PERSONS[0]]
    info = probe(first)
    names = [s for s in (*PERSONS, BACKGROUND) if s in clip.streams]
    sampled: dict[str, np.ndarray] = {}
    indices: list[int] = []
    for name in names:
        if probe(clip.streams[name]).num_frames != info.num_frames:
            raise UserError(
                f"the {name} stream has a different frame count from {first.name}; "
                "write the three streams of one clip together (`track`)"
            )
        indices, sampled[name] = sample_frames(clip.streams[name], frames, max_side=max_side)
    fill = np.asarray(clip.fill, np.uint8)
    size = sampled[PERSONS[0]].shape[1:3]
    if clip.masks is not None:
        labels = _labels_from_masks(Path(clip.masks), indices, size)
    else:
        labels = _labels_from_fill(sampled, fill)
    return SampledClip(
        frames=compose(sampled, labels, fill),
        labels=labels,
        indices=indices,
        fps=info.fps,
        num_frames=info.num_frames,
        streams=sampled,
    )


def sample_ahead(clip: TrackedClip, frames: int, max_side: int | None = 512) -> Future:
    """:func:`sample_clip` started on a daemon thread: a future of its :class:`SampledClip` (or
    of its error). Decoding releases the GIL, so a command samples the clip while it imports and
    loads the model; a result nobody asks for is simply dropped."""
    future: Future = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(sample_clip(clip, frames, max_side))
        except BaseException as exc:  # handed to whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=run, name="sample-ahead", daemon=True).start()
    return future


def letterbox(video: np.ndarray, height: int, width: int, pad: int = 0) -> np.ndarray:
    """``video`` (T, H, W, 3) uint8 scaled by one factor to fit ``height`` x ``width`` and
    centred on a ``pad``-valued canvas: shapes keep their proportions (never stretched)."""
    t, h, w = video.shape[:3]
    if (h, w) == (height, width):
        return video
    scale = min(height / h, width / w)
    nh, nw = max(1, min(height, round(h * scale))), max(1, min(width, round(w * scale)))
    top, left = (height - nh) // 2, (width - nw) // 2
    out = np.full((t, height, width, video.shape[3]), pad, np.uint8)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    for i, frame in enumerate(video):
        out[i, top : top + nh, left : left + nw] = cv2.resize(frame, (nw, nh), interpolation=interp)
    return out
