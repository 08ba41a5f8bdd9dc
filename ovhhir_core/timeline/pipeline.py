"""The timeline of a tracked video, as ``track`` and the app make it: measure the masks, run pose
where the preset's weights allow, write ``timeline.json`` / ``timeline.png``, and draw the
skeletons on the overlay video.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ovhhir_core.streams import PERSONS, TRACK_FILES
from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.core import Timeline, compute_timeline, iter_labels
from ovhhir_core.timeline.io import write_timeline
from ovhhir_core.timeline.pose import SKELETON, PoseEstimator, load_pose, run_pose
from ovhhir_core.video import VideoWriter, iter_frames, probe
from ovhhir_core.weights.hub import MissingWeightsError

log = logging.getLogger(__name__)

SKELETON_COLOURS = {"person_1": (255, 220, 80), "person_2": (80, 255, 220)}


def pose_estimator(preset: Any, device: str = "cpu") -> tuple[PoseEstimator | None, str | None]:
    """The preset's pose estimator, or None and a note saying why there is none."""
    if preset is None:
        return None, "no pose: no preset given"
    try:
        estimator = load_pose(preset.model.person_encoder, device)
    except MissingWeightsError as exc:
        log.warning("timeline without pose: %s", str(exc).splitlines()[0])
        return None, "no pose: " + " ".join(str(exc).split())
    if estimator is None:
        return None, "no pose: the preset's person encoder is not a ViTPose"
    return estimator, None


def segmenter_provenance(preset: Any) -> dict[str, Any] | None:
    """What made the masks (``timeline.json``'s ``metadata["segmenter"]``): ``model`` (the click
    segmenter and the tracker, each with its weights), ``trained`` (False when either was built
    with random weights: then every measurement is noise) and ``preset``; None without a preset."""
    if preset is None:
        return None
    from ovhhir_core.weights.pretrained import PRETRAINED

    parts, trained = [], True
    for name in ("sam", "tracker"):
        cfg = preset.component(name)
        spec = PRETRAINED.get(cfg.weights or "")
        if cfg.local_path:
            ident = str(cfg.local_path)
        elif cfg.weights is None:
            ident, trained = "untrained", False
        else:
            ident = (spec.repo_id or spec.filename or cfg.weights) if spec else cfg.weights
        parts.append(f"{name}: {cfg.kind}, {ident}")
    return {"model": "; ".join(parts), "trained": trained, "preset": preset.name}


def video_timeline(
    labels: Mapping[int, np.ndarray] | Any,
    video: str | os.PathLike,
    *,
    estimator: PoseEstimator | None = None,
    pose_note: str | None = None,
    config: TimelineConfig | None = None,
) -> Timeline:
    """The timeline of ``labels`` (a mapping or a re-iterable masks file) on ``video`` (fps,
    size, and the frames pose looks at)."""
    cfg = config or TimelineConfig()
    info = probe(video)

    def pose(series):
        first, last = int(series.frame_idx[0]), int(series.frame_idx[-1])
        frames = iter_frames(video, first, min(last + 1, info.num_frames))
        return run_pose(estimator, frames, iter_labels(labels), series, info.fps, cfg)

    return compute_timeline(
        labels,
        info.fps,
        config=cfg,
        video_size=(info.width, info.height),
        source=Path(video).name,
        pose=pose if estimator is not None else None,
        pose_note=pose_note,
    )


def draw_skeletons(
    overlay: str | os.PathLike, timeline: Timeline, start: int | None = None
) -> Path:
    """Re-encode ``overlay`` (whose first frame is video frame ``start``, default the timeline's
    first) with each person's keypoints and skeleton drawn; random pose weights are labelled as
    such on every frame."""
    overlay = Path(overlay)
    info = probe(overlay)
    by_frame = {r["frame"]: r.get("pose") for r in timeline.frames}
    pose = timeline.metadata.get("pose") or {}
    label = None if pose.get("trained") else "pose: RANDOM weights"
    first = timeline.metadata["first_frame"] if start is None else start
    tmp = overlay.with_name(".skeleton-" + overlay.name)
    with VideoWriter(tmp, info.fps) as writer:
        for i, frame in iter_frames(overlay, 0, info.num_frames):
            frame = np.array(frame)  # a writable copy
            _draw(frame, by_frame.get(first + i), timeline.metadata.get("config", {}))
            if label:
                cv2.putText(frame, label, (4, frame.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX,
                            0.4, (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
            writer.write(frame)
    os.replace(tmp, overlay)
    return overlay


def _draw(frame: np.ndarray, pose_row: dict | None, cfg: dict) -> None:
    if not pose_row:
        return
    min_score = cfg.get("min_keypoint_score", TimelineConfig.min_keypoint_score)
    for person in PERSONS:
        if not pose_row.get(person):
            continue
        kp = np.asarray(pose_row[person]["keypoints"], float)
        colour = SKELETON_COLOURS[person]
        for a, b in SKELETON:
            if min(kp[a, 2], kp[b, 2]) >= min_score:
                pa, pb = tuple(int(v) for v in kp[a, :2]), tuple(int(v) for v in kp[b, :2])
                cv2.line(frame, pa, pb, colour, 2, cv2.LINE_AA)
        for x, y, score in kp:
            if score >= min_score:
                cv2.circle(frame, (int(x), int(y)), 3, colour, -1, cv2.LINE_AA)


def track_timeline(
    labels: Mapping[int, np.ndarray],
    video: str | os.PathLike,
    out_dir: str | os.PathLike,
    preset: Any = None,
    device: str = "cpu",
    pose: bool = True,
    start: int | None = None,
    overlay_written: threading.Event | None = None,
) -> dict[str, Path]:
    """Everything ``track`` writes beside the streams: ``timeline.json``, ``timeline.png``, and
    skeletons on ``overlay.mp4`` when pose ran. What made the masks (:func:`segmenter_provenance`
    of ``preset``) goes into the metadata; the thresholds are ``preset.timeline``. Returns the written
    paths by name. ``overlay_written``: set by whoever writes the overlay meanwhile (on another
    thread); the skeletons wait for it."""
    estimator, note = pose_estimator(preset, device) if pose else (None, "no pose: turned off")
    config = getattr(preset, "timeline", None)  # the preset's thresholds (defaults without one)
    timeline = video_timeline(labels, video, estimator=estimator, pose_note=note, config=config)
    timeline.metadata["segmenter"] = segmenter_provenance(preset)
    paths = write_timeline(out_dir, timeline)
    overlay = Path(out_dir) / TRACK_FILES["overlay"]
    if estimator is not None and overlay_written is not None:
        overlay_written.wait()
    if estimator is not None and overlay.is_file():
        draw_skeletons(overlay, timeline, start)
    return paths
