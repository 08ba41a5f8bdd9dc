"""A clip: the three masked streams of one interaction, sampled to a fixed number of frames.

Person streams hold one person on a fill colour (black by default); the person box of each frame is
taken from the non-fill pixels (or from the masks when given). A frame where the person is absent
has box ``None``; the encoders then skip it and the branch sees its learned "absent" token.
Stream names come from :mod:`ovhhir_core.streams`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ovhhir_core.errors import UserError
from ovhhir_core.streams import LABEL_VALUES, PERSONS, STREAMS

Box = tuple[int, int, int, int]


class ClipError(UserError, ValueError):
    """The streams given for a clip are missing or inconsistent."""


def box_from_mask(mask: np.ndarray, min_pixels: int = 16) -> Box | None:
    """Bounding box ``(x0, y0, x1, y1)`` (x1/y1 exclusive) of a (H, W) bool mask, or None.

    Fewer than ``min_pixels`` true pixels counts as absent (compression noise, a stray pixel).
    """
    if int(mask.sum()) < min_pixels:
        return None
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def non_fill_mask(
    frame: np.ndarray, fill: tuple[int, int, int] = (0, 0, 0), tol: int = 24
) -> np.ndarray:
    """(H, W) bool: pixels of an (H, W, 3) uint8 frame farther than ``tol`` from ``fill``.

    The tolerance absorbs video-compression noise around the fill colour.
    """
    diff = np.abs(frame.astype(np.int16) - np.asarray(fill, dtype=np.int16))  # (H, W, 3)
    return diff.max(axis=-1) > tol


@dataclass
class Clip:
    """Per stream (T, H, W, 3) uint8 RGB frames, and per person stream T boxes (or None).

    ``frames["background"]`` is absent when the clip has no background stream. ``frame_indices``
    are the source-video indices the frames were sampled at (informational).
    """

    frames: dict[str, np.ndarray]
    boxes: dict[str, list[Box | None]]
    frame_indices: dict[str, list[int]] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.frames["person_1"].shape[0])

    @property
    def has_background(self) -> bool:
        return "background" in self.frames

    def presence(self, stream: str) -> np.ndarray:
        """(T,) bool: frames where the person of ``stream`` is visible."""
        return np.array([b is not None for b in self.boxes[stream]], dtype=bool)

    @classmethod
    def from_arrays(
        cls,
        frames: dict[str, np.ndarray],
        masks: dict[str, np.ndarray] | None = None,
        fill: tuple[int, int, int] = (0, 0, 0),
    ) -> Clip:
        """Build a clip from in-memory streams.

        ``frames``: stream name → (T, H, W, 3) uint8; ``person_1`` and ``person_2`` required,
        ``background`` optional (None or missing = no background). ``masks``: optional stream name →
        (T, H, W) bool person masks; without them boxes come from the non-``fill`` pixels.
        """
        frames = {k: v for k, v in frames.items() if v is not None}
        unknown = sorted(set(frames) - set(STREAMS))
        if unknown:
            raise ClipError(f"unknown stream(s) {unknown}; expected {', '.join(STREAMS)}")
        missing = [s for s in PERSONS if s not in frames]
        if missing:
            raise ClipError(f"a clip needs both person streams; missing: {', '.join(missing)}")
        lengths = set()
        for name, arr in frames.items():
            if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
                raise ClipError(
                    f"stream {name}: expected (T, H, W, 3) uint8 frames, got {arr.shape} {arr.dtype}"
                )
            lengths.add(arr.shape[0])
        if len(lengths) != 1 or 0 in lengths:
            raise ClipError(f"all streams need the same, non-zero number of frames; got {lengths}")
        boxes = {}
        for name in PERSONS:
            if masks is not None and masks.get(name) is not None:
                per_frame = [np.asarray(m, dtype=bool) for m in masks[name]]
            else:
                per_frame = [non_fill_mask(f, fill) for f in frames[name]]
            boxes[name] = [box_from_mask(m) for m in per_frame]
        return cls(frames=dict(frames), boxes=boxes)


def read_label_maps(path: str | os.PathLike, indices: list[int]) -> list[np.ndarray] | None:
    """The (H, W) uint8 label maps of a ``masks.npz`` (as ``track`` writes it) at stream frames
    ``indices`` (item i of the file, in frame order, belongs to frame i of the stream videos);
    only those are read. None when the file does not cover them."""
    from ovhhir_core.masking import MaskingError, load_masks_npz

    keys: list[int] = []

    def pick(all_keys: list[int]) -> list[int]:
        keys.extend(all_keys)
        return [all_keys[i] for i in indices if i < len(all_keys)]

    try:
        maps = load_masks_npz(path, pick)
    except MaskingError as exc:
        raise ClipError(f"{path} is not a readable masks.npz ({exc})") from exc
    if not keys or max(indices) >= len(keys):
        return None
    return [maps[keys[i]] for i in indices]


def _person_masks(
    label_maps: list[np.ndarray] | None, size: tuple[int, int]
) -> dict[str, np.ndarray] | None:
    """``{person: (T, H, W) bool}`` from the sampled frames' label maps, resized to ``size``
    (H, W); None without maps."""
    import cv2

    if not label_maps:
        return None
    picked = [cv2.resize(m, size[::-1], interpolation=cv2.INTER_NEAREST) for m in label_maps]
    return {p: np.stack([m == LABEL_VALUES[p] for m in picked]) for p in PERSONS}


def load_clip(
    paths: dict[str, str | os.PathLike | None],
    num_frames: int = 16,
    max_side: int | None = 512,
    fill: tuple[int, int, int] = (0, 0, 0),
    masks: str | os.PathLike | None = None,
) -> Clip:
    """Sample ``num_frames`` frames uniformly from each stream video and build a :class:`Clip`.

    ``paths``: ``{"person_1": A, "person_2": B, "background": C or None}``. Frames are decoded with
    :func:`ovhhir_core.video.sample_frames` (never the whole video in memory), longest side capped
    at ``max_side`` pixels. Person boxes come from ``masks`` (a ``masks.npz`` of label maps, one
    per stream frame) when given and covering the frames, else from the pixels that are not
    ``fill`` (the colour the streams were written with).
    """
    from ovhhir_core import video

    frames: dict[str, np.ndarray] = {}
    indices: dict[str, list[int]] = {}
    for name in STREAMS:
        path = paths.get(name)
        if path is None:
            continue
        idx, arr = video.sample_frames(path, n=num_frames, max_side=max_side)
        frames[name] = arr
        indices[name] = list(idx)
    person_masks = None
    if masks is not None and "person_1" in frames:
        size = frames["person_1"].shape[1:3]
        person_masks = _person_masks(read_label_maps(masks, indices["person_1"]), size)
    clip = Clip.from_arrays(frames, masks=person_masks, fill=fill)
    clip.frame_indices = indices
    return clip
