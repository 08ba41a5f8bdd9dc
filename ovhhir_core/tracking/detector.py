"""Person detectors behind the proposals: one RGB frame in, person boxes with scores out.

The default is RT-DETR from transformers (``RTDetrForObjectDetection``; ``PekingU/rtdetr_r50vd_coco_o365``,
Apache-2.0, COCO person = class 0). A preset may choose SAM 3 prompted with the text "person" instead
(``detector.kind = "sam3"``, in ``tracking/sam3.py``); its weights are gated and under Meta's SAM
License, which is not an open-source licence, so it is never a default.

A :class:`PersonDetector` is shared and read-only like the segmenters; per-user caching of its
results lives in :mod:`ovhhir_core.tracking.proposals`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ovhhir_core.tracking.config import DetectorConfig
from ovhhir_core.tracking.errors import TrackingError
from ovhhir_core.weights.hub import resolve_weights

log = logging.getLogger(__name__)

KINDS = ("rtdetr", "sam3")
#: Two detections overlapping more than this (box IoU) are one person; the higher score stays.
DUPLICATE_IOU = 0.7

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Detection:
    """One detected person: ``box`` (x0, y0, x1, y1) in frame pixels, ``score`` in [0, 1]."""

    box: Box
    score: float


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def select(boxes: np.ndarray, scores: np.ndarray, size: tuple[int, int], keep: int) -> list:
    """Clip (N, 4) xyxy ``boxes`` to the frame ``size`` (H, W), drop empty ones and duplicates
    (IoU > :data:`DUPLICATE_IOU`), and return at most ``keep`` :class:`Detection` s, best first."""
    h, w = size
    out: list[Detection] = []
    for i in np.argsort(-scores, kind="stable"):
        x0, x1 = np.clip(boxes[i, [0, 2]], 0, w)
        y0, y1 = np.clip(boxes[i, [1, 3]], 0, h)
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        det = Detection((float(x0), float(y0), float(x1), float(y1)), float(scores[i]))
        if all(box_iou(det.box, d.box) <= DUPLICATE_IOU for d in out):
            out.append(det)
        if len(out) == keep:
            break
    return out


class PersonDetector:
    """A loaded person detector: ``detect(frame)`` → :class:`Detection` s, best first.

    ``run(frame)`` is the model-specific part: (H, W, 3) uint8 RGB → ((N, 4) xyxy boxes in frame
    pixels, (N,) person scores). ``source`` says what produced the proposals (model id, trained or
    random), for display beside them. ``lock`` serialises use of the accelerator.
    """

    def __init__(
        self,
        run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
        config: DetectorConfig,
        source: str,
        trained: bool,
        lock: threading.RLock | None = None,
        model: torch.nn.Module | None = None,
    ) -> None:
        self._run = run
        self.model = model  # the network behind ``run`` (parameter counts, benchmarks)
        self.config = config
        self.source = source
        self.trained = trained
        self.lock = lock or threading.RLock()

    def detect(self, frame: np.ndarray) -> list[Detection]:
        with self.lock, torch.inference_mode():
            boxes, scores = self._run(frame)
        return select(boxes, scores, frame.shape[:2], self.config.max_people)


def rtdetr_config(arch: dict[str, Any]):
    """``RTDetrConfig`` with ``arch`` overrides; its ResNet backbone is built in transformers
    (``RTDetrResNetConfig``), never fetched from timm or the Hub."""
    from transformers import RTDetrConfig
    from transformers.models.rt_detr import RTDetrResNetConfig

    arch = dict(arch)
    backbone = arch.pop("backbone_config", None)
    if backbone is not None:
        backbone = RTDetrResNetConfig(
            **{"out_features": ["stage2", "stage3", "stage4"], **backbone}
        )
    try:
        return RTDetrConfig(backbone_config=backbone, **arch)
    except TypeError as exc:
        raise TrackingError(f"detector.arch: {exc}") from exc


def _rtdetr(cfg: DetectorConfig, device: torch.device, lock) -> PersonDetector:
    from transformers import RTDetrForObjectDetection, RTDetrImageProcessor

    if cfg.weights is None and cfg.local_path is None:
        with torch.random.fork_rng(devices=[]):  # the same random detector in every process,
            torch.manual_seed(0)  # so `people` ids still name the same boxes in `track --p1-id`
            model = RTDetrForObjectDetection(rtdetr_config(cfg.arch))
        source, trained = "RT-DETR, random weights (untrained: proposals are noise)", False
    else:
        path = resolve_weights("detector", cfg.weights, cfg.local_path)
        model = RTDetrForObjectDetection.from_pretrained(path)
        source, trained = f"RT-DETR {cfg.weights or path}", True
    model = model.to(device).eval()
    if not 0 <= cfg.person_class < model.config.num_labels:
        raise TrackingError(
            f"detector.person_class {cfg.person_class} is not a class of this detector "
            f"(0..{model.config.num_labels - 1})"
        )
    size = {"height": cfg.image_size, "width": cfg.image_size}
    processor = RTDetrImageProcessor(size=size)

    def run(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pixels = processor(images=frame, return_tensors="pt").pixel_values.to(device)
        out = model(pixel_values=pixels)
        scores = out.logits[0, :, cfg.person_class].float().sigmoid().cpu().numpy()  # (Q,)
        cx, cy, bw, bh = out.pred_boxes[0].float().cpu().numpy().T  # (Q,) each, 0..1
        h, w = frame.shape[:2]
        boxes = np.stack(
            [(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h]
        )
        return boxes.T, scores

    log.info("person detector: %s", source)
    return PersonDetector(run, cfg, source, trained, lock, model)


def load_detector(
    cfg: DetectorConfig, device: torch.device, lock: threading.RLock | None = None
) -> PersonDetector:
    """Build (or load) the preset's person detector on ``device``.

    Missing weights raise :class:`ovhhir_core.weights.hub.MissingWeightsError` naming ``detector``.
    """
    if cfg.kind not in KINDS:
        raise TrackingError(f"unknown detector.kind {cfg.kind!r}; use one of {', '.join(KINDS)}")
    device = torch.device(device)
    if cfg.kind == "sam3":
        from ovhhir_core.tracking.sam3 import sam3_runner

        run, source = sam3_runner(cfg, device)
        log.info("person detector: %s", source)
        return PersonDetector(run, cfg, source, True, lock)
    return _rtdetr(cfg, device, lock)
