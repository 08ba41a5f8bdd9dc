"""Pose on the tracked people: ViTPose top-down on each person's mask box, keypoints per frame,
pose events (a wrist or ankle touching the other person; which way each one faces).

The weights are the person encoder's (``preset.model.person_encoder``): the ViTPose checkpoints
in the hub table (``vitpose-base-simple``) are whole ``VitPoseForPoseEstimation`` models, so the
heatmap head comes with them. A preset without weights there (``tiny``) builds a random tiny
ViTPose of the same architecture: the path runs, and every output says the weights are random.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovhhir_core.streams import LABEL_VALUES, PERSONS
from ovhhir_core.timeline.config import TimelineConfig
from ovhhir_core.timeline.events import make_event, runs, seconds_to_frames
from ovhhir_core.timeline.measure import Series

log = logging.getLogger(__name__)

#: The 17 COCO keypoints ViTPose predicts, in its output order.
KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
#: Limbs whose tip may touch the other person: keypoint index -> name used in events.
TIPS = {9: "left wrist", 10: "right wrist", 15: "left ankle", 16: "right ankle"}
#: Skeleton edges drawn on the overlay video (keypoint index pairs).
SKELETON = (
    (5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16), (0, 5), (0, 6),
)  # fmt: skip


@dataclass
class PoseEstimator:
    """A loaded ViTPose and its image processor. ``trained`` False: random weights."""

    model: Any
    processor: Any
    model_id: str
    trained: bool
    device: str = "cpu"

    def metadata(self) -> dict[str, Any]:
        return {"model": self.model_id, "trained": self.trained, "keypoints": list(KEYPOINTS)}

    def __call__(self, frame: np.ndarray, boxes: list[list[float]]) -> list[np.ndarray]:
        """Keypoints of each box (video pixels, COCO ``[x, y, w, h]``): (17, 3) x, y, score."""
        import torch

        if not boxes:
            return []
        inputs = self.processor(frame, boxes=[boxes], return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, next(self.model.parameters()).dtype)
        with torch.inference_mode():
            out = self.model(pixel_values=pixels)
        out.heatmaps = out.heatmaps.float().cpu()
        result = self.processor.post_process_pose_estimation(out, boxes=[boxes])[0]
        return [
            np.concatenate([r["keypoints"].numpy(), r["scores"].numpy()[:, None]], axis=1)
            for r in result
        ]


def load_pose(encoder_cfg: Any, device: str = "cpu") -> PoseEstimator | None:
    """ViTPose from a person-encoder config (``kind``, ``weights``, ``arch``, ``local_path``).

    None when the encoder is not a ViTPose; :class:`~ovhhir_core.weights.hub.MissingWeightsError` when
    its weights cannot be had.
    """
    if getattr(encoder_cfg, "kind", None) != "vitpose":
        return None
    from transformers import (
        VitPoseBackboneConfig,
        VitPoseConfig,
        VitPoseForPoseEstimation,
        VitPoseImageProcessor,
    )

    if encoder_cfg.weights is None and not encoder_cfg.local_path:
        arch = dict(encoder_cfg.arch or {})
        layers = arch.get("num_hidden_layers", VitPoseBackboneConfig().num_hidden_layers)
        backbone = VitPoseBackboneConfig(**arch, out_indices=[layers])
        model = VitPoseForPoseEstimation(VitPoseConfig(backbone_config=backbone, num_labels=17))
        h, w = backbone.image_size
        processor = VitPoseImageProcessor(size={"height": h, "width": w})
        model_id, trained = f"tiny ViTPose ({h}x{w} input)", False
    else:
        from ovhhir_core.weights.hub import resolve_weights

        path = resolve_weights("person_encoder", encoder_cfg.weights, encoder_cfg.local_path)
        model = VitPoseForPoseEstimation.from_pretrained(path)
        has_proc = os.path.isfile(os.path.join(path, "preprocessor_config.json"))
        processor = (
            VitPoseImageProcessor.from_pretrained(path) if has_proc else VitPoseImageProcessor()
        )
        model_id, trained = encoder_cfg.local_path or encoder_cfg.weights, True
    return PoseEstimator(model.to(device).eval(), processor, str(model_id), trained, device)


def _near(label_map: np.ndarray, xy: np.ndarray, radius: float, value: int) -> bool:
    """Whether a pixel labelled ``value`` lies within ``radius`` pixels of ``xy`` (map pixels)."""
    h, w = label_map.shape
    x, y, r = int(round(xy[0])), int(round(xy[1])), max(1, int(np.ceil(radius)))
    if not (-r <= x < w + r and -r <= y < h + r):
        return False
    win = label_map[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1]
    return bool((win == value).any())


def _facing(kp: np.ndarray, other_dx: float, min_score: float) -> str | None:
    """ "toward" / "away" from the other person (side view: nose ahead of the shoulders)."""
    nose, shoulders = kp[0], kp[[5, 6]]
    if nose[2] < min_score or (shoulders[:, 2] < min_score).any() or not np.isfinite(other_dx):
        return None
    ahead = nose[0] - shoulders[:, 0].mean()
    return "toward" if ahead * other_dx > 0 else "away"


def in_step(
    frames: Iterable[tuple[int, np.ndarray]], labels: Iterable[tuple[int, np.ndarray]]
) -> Iterable[tuple[int, np.ndarray, np.ndarray]]:
    """``(frame_idx, frame, label_map)`` for the frames that have a label map (both inputs in
    frame order; one of each in memory at a time)."""
    label_iter = iter(labels)
    pending = next(label_iter, None)
    for frame_idx, frame in frames:
        while pending is not None and pending[0] < frame_idx:
            pending = next(label_iter, None)
        if pending is None:
            return
        if pending[0] == frame_idx:
            yield frame_idx, frame, pending[1]


def run_pose(
    estimator: PoseEstimator,
    frames: Iterable[tuple[int, np.ndarray]],
    labels: Iterable[tuple[int, np.ndarray]],
    s: Series,
    fps: float,
    cfg: TimelineConfig,
) -> tuple[dict[str, Any], list[dict | None], list[dict]]:
    """Keypoints for every row of ``s`` (frames and label maps iterated in step) and the pose
    events; returns (metadata, per-frame pose rows, events)."""
    rows: dict[int, dict] = {}
    touch = np.zeros((len(s.frame_idx), 2, len(TIPS)), bool)
    facing = np.full((len(s.frame_idx), 2), None, object)
    where = {int(f): i for i, f in enumerate(s.frame_idx)}
    for frame_idx, frame, label_map in in_step(frames, labels):
        i = where.get(int(frame_idx))
        if i is None:
            continue
        sx, sy = label_map.shape[1] / frame.shape[1], label_map.shape[0] / frame.shape[0]
        seen = [k for k in range(2) if s.visible[i, k]]
        boxes = [[*s.box[i, k, :2], *(s.box[i, k, 2:] - s.box[i, k, :2])] for k in seen]
        row: dict = {p: None for p in PERSONS}
        for k, kp in zip(seen, estimator(frame, boxes), strict=True):
            other = 1 - k
            radius = cfg.limb_touch * float(s.height[i, k]) * sx
            for j, idx in enumerate(TIPS):
                ok = kp[idx, 2] >= cfg.min_keypoint_score and s.visible[i, other]
                xy = kp[idx, :2] * (sx, sy)
                touch[i, k, j] = ok and _near(label_map, xy, radius, LABEL_VALUES[PERSONS[other]])
            dx = s.centroid[i, other, 0] - s.centroid[i, k, 0]
            facing[i, k] = _facing(kp, dx, cfg.min_keypoint_score)
            row[PERSONS[k]] = {
                "keypoints": np.round(kp.astype(np.float64), 2).tolist(),
                "facing": facing[i, k],
            }
        rows[i] = row
    pose_rows = [rows.get(i) for i in range(len(s.frame_idx))]
    return estimator.metadata(), pose_rows, _pose_events(s, fps, cfg, touch, facing)


def _pose_events(
    s: Series, fps: float, cfg: TimelineConfig, touch: np.ndarray, facing: np.ndarray
) -> list[dict]:
    merge = seconds_to_frames(cfg.merge_s, fps) - 1
    out = []
    for k, person in enumerate(PERSONS):
        for j, limb in enumerate(TIPS.values()):
            for a, b in runs(touch[:, k, j], merge, 1):
                out.append(
                    make_event("limb_touch", s, a, b, source="pose", person=person, limb=limb)
                )
        for direction in ("toward", "away"):
            flags = facing[:, k] == direction
            for a, b in runs(flags, merge, seconds_to_frames(cfg.min_motion_s, fps)):
                out.append(
                    make_event(
                        "facing",
                        s,
                        a,
                        b,
                        source="pose",
                        person=person,
                        direction=f"{direction} the other person",
                    )  # fmt: skip
                )
    return out
