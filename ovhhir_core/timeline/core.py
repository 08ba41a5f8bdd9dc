"""The interaction timeline of a tracked clip: measurements per frame, events, metadata.

    timeline = compute_timeline(session.labels, fps=25.0, video_size=(W, H), source="clip.mp4")
    timeline.events     # [{"kind": "approach", "start_frame": 3, "end_frame": 40, ...}, ...]
    timeline.frames     # one row per frame (see README, "Interaction timeline")

``labels`` is any ``frame_idx -> (H, W) uint8`` mapping (a tracking session's ``LabelStore``) or an
iterable of ``(frame_idx, label_map)`` pairs (a masks file read by ``timeline.io.MaskFile``); it is
read one map at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ovhhir_core.streams import PERSONS
from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.events import detect_events, motion_label
from ovhhir_core.timeline.measure import Series, TimelineError, collect, derive

#: Identifies the JSON layout; bumped when a field changes meaning.
SCHEMA = "ovhhir-timeline/1"


@dataclass
class Timeline:
    """``metadata`` (fps, size, source, pose model, thresholds), ``frames`` (one row per frame),
    ``events`` (sorted by start)."""

    metadata: dict[str, Any]
    frames: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return float(self.metadata["fps"])

    @property
    def duration_s(self) -> float:
        return float(self.metadata["duration_s"])

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "metadata": self.metadata,
            "events": self.events,
            "frames": self.frames,
        }


def iter_labels(
    labels: Mapping[int, np.ndarray] | Iterable[tuple[int, np.ndarray]],
) -> Iterable[tuple[int, np.ndarray]]:
    """``(frame_idx, label_map)`` pairs in frame order, one map at a time."""
    if isinstance(labels, Mapping):
        return ((i, labels[i]) for i in sorted(labels))
    return labels


def _num(x: float, digits: int = 3) -> float | None:
    return round(float(x), digits) if np.isfinite(x) else None


def _vec(v: np.ndarray, digits: int = 1) -> list[float] | None:
    return [round(float(a), digits) for a in v] if np.isfinite(v).all() else None


def _person_row(s: Series, i: int, p: int) -> dict[str, Any]:
    if not s.visible[i, p]:
        return {"visible": False, "box": None, "centroid": None, "area": None, "height": None,
                "velocity": None, "occluded": None}  # fmt: skip
    return {
        "visible": True,
        "box": _vec(s.box[i, p]),
        "centroid": _vec(s.centroid[i, p]),
        "area": _num(s.area[i, p], 1),
        "height": _num(s.height[i, p], 1),
        "velocity": _vec(s.velocity[i, p], 3),
        "occluded": bool(s.occluded[i, p]),
    }


def _closer(closing: np.ndarray, cfg: TimelineConfig) -> str | None:
    who = [
        p for p, c in zip(PERSONS, closing, strict=True) if np.isfinite(c) and c >= cfg.move_speed
    ]
    return None if not who else who[0] if len(who) == 1 else "both"


def frame_rows(s: Series, cfg: TimelineConfig) -> list[dict[str, Any]]:
    """One JSON row per frame; absent values are null, never filled in."""
    motion = motion_label(s, cfg)
    rows = []
    for i in range(len(s.frame_idx)):
        both = bool(s.visible[i].all())
        pair = {
            "measured": both,
            "distance": _num(s.distance[i]) if both else None,
            "gap": _num(s.gap[i]) if both else None,
            "contact": bool(s.contact[i] == 1) if both else None,
            "approach_speed": _num(s.approach_speed[i]) if both else None,
            "closing": {p: _num(s.closing[i, k]) for k, p in enumerate(PERSONS)} if both else None,
            "closer": _closer(s.closing[i], cfg) if both else None,
            "motion": motion[i] if both else None,
        }
        row = {"frame": int(s.frame_idx[i]), "t": round(float(s.t[i]), 3)}
        row.update({p: _person_row(s, i, k) for k, p in enumerate(PERSONS)})
        row["pair"] = pair
        rows.append(row)
    return rows


def compute_timeline(
    labels: Mapping[int, np.ndarray] | Iterable[tuple[int, np.ndarray]],
    fps: float,
    *,
    config: TimelineConfig | None = None,
    video_size: tuple[int, int] | None = None,
    source: str | None = None,
    pose: Callable[[Series], tuple[dict[str, Any], list[dict], list[dict]]] | None = None,
    pose_note: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Timeline:
    """Measure ``labels`` (streamed) and detect events.

    ``video_size`` (W, H): the video's size when the masks have another one (measurements are
    reported in video pixels). ``pose``: a callable given the measured series that returns
    ``(pose metadata, per-frame pose rows, pose events)`` (``timeline.pose.run_pose``); without
    it the timeline has no pose rows and ``metadata["pose"]`` is None with ``pose_note`` saying
    why.
    """
    cfg = config or TimelineConfig()
    if not fps or fps <= 0:
        raise TimelineError(f"fps must be > 0, got {fps}; pass the video's frame rate")
    raw = collect(iter_labels(labels), progress)
    s = derive(raw, fps, video_size, cfg)
    rows = frame_rows(s, cfg)
    events = detect_events(s, fps, cfg)
    pose_meta = None
    if pose is not None:
        pose_meta, pose_rows, pose_events = pose(s)
        for row, prow in zip(rows, pose_rows, strict=True):
            row["pose"] = prow
        events = sorted(events + pose_events, key=lambda e: e["start_frame"])
    size = video_size or raw.mask_size
    metadata = {
        "fps": float(fps),
        "num_frames": len(rows),
        "first_frame": int(raw.frame_idx[0]),
        "last_frame": int(raw.frame_idx[-1]),
        "duration_s": round((raw.frame_idx[-1] - raw.frame_idx[0] + 1) / float(fps), 3),
        "size": [int(size[0]), int(size[1])],
        "mask_size": list(raw.mask_size),
        "source": source,
        "pose": pose_meta,
        "pose_note": None if pose_meta else (pose_note or "no pose estimation was run"),
        "units": {
            "box, centroid, area, height": "video pixels",
            "distance, gap": "people's heights (mean box height of both)",
            "velocity, closing, approach_speed": "heights per second",
            "t, start_s, end_s": "seconds from frame 0 of the video",
        },
        "config": cfg.as_dict(),
    }
    return Timeline(metadata, rows, events)
