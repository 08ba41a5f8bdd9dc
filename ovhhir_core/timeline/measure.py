"""Per-frame measurements of the two tracked people, streamed over the label maps.

:func:`collect` reads one label map at a time and keeps a few numbers per frame (memory is flat in
video length: a 10-minute clip keeps ~6,000 short rows, never the maps). :func:`derive` then
smooths them and computes the pair's quantities. Frames where a person is absent stay NaN (with
``visible`` False): nothing is interpolated or invented.

Units: pixels of the *video* (label maps of another size are scaled), seconds, and for the pair
the people's height (the mean box height of both in that frame).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from ovhhir_core.errors import UserError
from ovhhir_core.streams import LABEL_VALUES, PERSONS
from ovhhir_core.timeline.config import TimelineConfig, window_frames


class TimelineError(UserError, ValueError):
    """Label maps that cannot be measured; the message says why and what to do."""


@dataclass
class RawSeries:
    """Unsmoothed per-frame numbers in label-map pixels. T frames, P = 2 people."""

    frame_idx: np.ndarray  # (T,) int
    visible: np.ndarray  # (T, P) bool
    box: np.ndarray  # (T, P, 4) x0, y0, x1, y1 (exclusive), NaN when absent
    centroid: np.ndarray  # (T, P, 2) x, y
    area: np.ndarray  # (T, P) pixels
    gap: np.ndarray  # (T,) pixels between the masks (0 = adjacent), NaN unless both visible
    mask_size: tuple[int, int]  # (W, H) of the label maps


def _person(label_map: np.ndarray, value: int) -> tuple[np.ndarray, np.ndarray, float] | None:
    mask = (label_map == value).view(np.uint8)
    m = cv2.moments(mask, binaryImage=True)
    if m["m00"] == 0:
        return None
    x, y, w, h = cv2.boundingRect(mask)
    box = np.array([x, y, x + w, y + h], np.float64)
    # x: the median column of the mask (a raised or stretched arm barely moves it); y: the mean.
    cols = np.cumsum(mask[y : y + h, x : x + w].sum(axis=0, dtype=np.int64))
    mid = int(np.searchsorted(cols, 0.5 * cols[-1]))
    return box, np.array([x + mid + 0.5, m["m01"] / m["m00"]]), float(m["m00"])


def mask_gap(label_map: np.ndarray, box_a: np.ndarray, box_b: np.ndarray) -> float:
    """Pixels between the person-1 and person-2 masks (0 when they touch: adjacent pixels).

    The exact Euclidean distance from every person-2 pixel to the nearest person-1 pixel, on the
    crop holding both boxes.
    """
    x0, y0 = int(min(box_a[0], box_b[0])), int(min(box_a[1], box_b[1]))
    x1, y1 = int(max(box_a[2], box_b[2])), int(max(box_a[3], box_b[3]))
    crop = label_map[y0:y1, x0:x1]
    src = (crop != LABEL_VALUES["person_1"]).view(np.uint8)
    dist = cv2.distanceTransform(src, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return max(0.0, float(dist[crop == LABEL_VALUES["person_2"]].min()) - 1.0)


def collect(
    labels: Iterable[tuple[int, np.ndarray]],
    progress: Callable[[int], None] | None = None,
) -> RawSeries:
    """Measure every ``(frame_idx, (H, W) uint8 label map)``; keeps numbers, never the maps."""
    idx, vis, boxes, cents, areas, gaps = [], [], [], [], [], []
    size = None
    nan4, nan2 = np.full(4, np.nan), np.full(2, np.nan)
    for n, (frame_idx, label_map) in enumerate(labels, 1):
        label_map = np.asarray(label_map)
        if label_map.ndim != 2:
            raise TimelineError(f"frame {frame_idx}: a label map is (H, W), got {label_map.shape}")
        if size is None:
            size = label_map.shape
        elif label_map.shape != size:
            raise TimelineError(
                f"frame {frame_idx}: label map is {label_map.shape}, earlier ones {size}; "
                "all masks of a clip must have one size"
            )
        found = [_person(label_map, LABEL_VALUES[p]) for p in PERSONS]
        idx.append(int(frame_idx))
        vis.append([f is not None for f in found])
        boxes.append([f[0] if f else nan4 for f in found])
        cents.append([f[1] if f else nan2 for f in found])
        areas.append([f[2] if f else np.nan for f in found])
        both = found[0] is not None and found[1] is not None
        gaps.append(mask_gap(label_map, found[0][0], found[1][0]) if both else np.nan)
        if progress is not None:
            progress(n)
    if size is None:
        raise TimelineError("no label maps: the masks file holds no frames")
    order = np.argsort(idx, kind="stable")
    return RawSeries(
        frame_idx=np.asarray(idx, np.int64)[order],
        visible=np.asarray(vis, bool)[order],
        box=np.asarray(boxes, np.float64)[order],
        centroid=np.asarray(cents, np.float64)[order],
        area=np.asarray(areas, np.float64)[order],
        gap=np.asarray(gaps, np.float64)[order],
        mask_size=(int(size[1]), int(size[0])),
    )


def smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Centred moving average over ``n`` frames along axis 0, ignoring NaN; NaN stays NaN."""
    if n <= 1 or len(x) < 2:
        return x.copy()
    valid = np.isfinite(x)
    kernel = np.ones(n)
    pad = [(n // 2, n // 2)] + [(0, 0)] * (x.ndim - 1)
    num = np.pad(np.where(valid, x, 0.0), pad)
    den = np.pad(valid.astype(np.float64), pad)
    conv = lambda a: np.apply_along_axis(lambda v: np.convolve(v, kernel, "valid"), 0, a)  # noqa: E731
    out = conv(num) / np.maximum(conv(den), 1e-12)
    out[~valid] = np.nan
    return out


def running_median(x: np.ndarray, n: int) -> np.ndarray:
    """Centred running median over ``n`` frames along axis 0, ignoring NaN; NaN stays NaN."""
    if n <= 1 or len(x) < 2:
        return x.copy()
    pad = [(n // 2, n // 2)] + [(0, 0)] * (x.ndim - 1)
    windows = np.lib.stride_tricks.sliding_window_view(
        np.pad(x, pad, constant_values=np.nan), n, axis=0
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: NaN, as meant
        out = np.nanmedian(windows, axis=-1)
    out[~np.isfinite(x)] = np.nan
    return out


def derivative(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """d x / d t along axis 0: central where both neighbours are finite, else one-sided, else
    NaN (a lone frame has no speed)."""
    out = np.full_like(x, np.nan)
    if len(x) < 2:
        return out
    tt = t.reshape((-1,) + (1,) * (x.ndim - 1))
    fwd = (x[1:] - x[:-1]) / (tt[1:] - tt[:-1])  # (T-1, ...)
    left = np.concatenate([np.full_like(x[:1], np.nan), fwd])
    right = np.concatenate([fwd, np.full_like(x[:1], np.nan)])
    both = np.isfinite(left) & np.isfinite(right)
    out[both] = 0.5 * (left[both] + right[both])
    only_l = np.isfinite(left) & ~np.isfinite(right)
    only_r = np.isfinite(right) & ~np.isfinite(left)
    out[only_l], out[only_r] = left[only_l], right[only_r]
    return out


@dataclass
class Series:
    """Smoothed measurements in video pixels; the pair's in heights. NaN where not measured."""

    frame_idx: np.ndarray  # (T,)
    t: np.ndarray  # (T,) seconds
    visible: np.ndarray  # (T, P) bool
    box: np.ndarray  # (T, P, 4) raw (unsmoothed) boxes, video pixels
    centroid: np.ndarray  # (T, P, 2) smoothed
    area: np.ndarray  # (T, P) raw
    height: np.ndarray  # (T, P) smoothed box height
    velocity: np.ndarray  # (T, P, 2) heights/s
    closing: np.ndarray  # (T, P) each person's speed toward the other, heights/s
    distance: np.ndarray  # (T,) centre distance, heights
    gap: np.ndarray  # (T,) heights between the masks
    contact: np.ndarray  # (T,) float 1/0, NaN unless both visible
    approach_speed: np.ndarray  # (T,) d distance / dt (negative = closer), heights/s
    occluded: np.ndarray  # (T, P) bool: this person is partly hidden by the other


def derive(
    raw: RawSeries, fps: float, video_size: tuple[int, int] | None, cfg: TimelineConfig
) -> Series:
    """Smooth ``raw`` and compute the pair's quantities (see :class:`Series`)."""
    if fps <= 0:
        raise TimelineError(f"fps must be > 0, got {fps}")
    vw, vh = video_size or raw.mask_size
    sx, sy = vw / raw.mask_size[0], vh / raw.mask_size[1]
    scale = 0.5 * (sx + sy)
    t = raw.frame_idx / float(fps)
    n = window_frames(cfg.smooth_s, fps)
    box = raw.box * np.array([sx, sy, sx, sy])
    centroid = smooth(raw.centroid * np.array([sx, sy]), n)
    # A raised arm changes a box's height by ~10 %: the running median over a longer window
    # keeps the unit of the pair's lengths steady while still following depth changes.
    height = running_median(box[..., 3] - box[..., 1], window_frames(cfg.height_window_s, fps))
    pair_h = height.mean(axis=1)  # NaN unless both visible
    diff = centroid[:, 1] - centroid[:, 0]
    distance = smooth(np.hypot(diff[:, 0], diff[:, 1]) / pair_h, n)
    gap_px = raw.gap * scale
    contact = np.where(
        np.isfinite(gap_px), gap_px <= np.maximum(scale, cfg.contact_gap * pair_h), np.nan
    )
    velocity = derivative(centroid, t) / height[..., None]
    toward = np.stack([diff, -diff], axis=1) / np.linalg.norm(diff, axis=1)[:, None, None]
    closing = (velocity * toward).sum(axis=2)
    area = raw.area * sx * sy
    occluded = _occluded(area, contact, window_frames(cfg.occlusion_window_s, fps), cfg)
    speed = derivative(distance, t)
    return Series(raw.frame_idx, t, raw.visible, box, centroid, area, height, velocity, closing,
                  distance, gap_px / pair_h, contact, speed, occluded)  # fmt: skip


def _occluded(area: np.ndarray, contact: np.ndarray, n: int, cfg: TimelineConfig) -> np.ndarray:
    """A person is occluded where the masks touch and its area drops below ``occlusion_area`` of
    its running median (over ``n`` frames, visible frames only)."""
    out = np.zeros(area.shape, bool)
    half = n // 2
    touching = contact == 1
    for p in range(area.shape[1]):
        for i in np.flatnonzero(touching):
            window = area[max(0, i - half) : i + half + 1, p]
            ref = np.nanmedian(window) if np.isfinite(window).any() else np.nan
            out[i, p] = bool(area[i, p] < cfg.occlusion_area * ref)
    return out
