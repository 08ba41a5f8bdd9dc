"""Configs of the click segmenter (SAM), the video tracker (SAM 2.1) and the person detector: the
preset's ``sam``, ``tracker`` and ``detector`` sections (re-exported by
``ovhhir_core.tracking.config``)."""

from __future__ import annotations

from dataclasses import dataclass

from ovhhir_core.config.weights import WeightsConfig


@dataclass
class SamConfig(WeightsConfig):
    """Click segmenter: segment-anything (``kind="sam"``) or EdgeTAM's image model
    (``kind="edgetam"``). ``weights=None`` builds random weights sized by ``arch``."""

    weights: str | None = "sam_vit_b"
    kind: str = "sam"  # sam | edgetam
    model_type: str = "vit_b"  # vit_b | vit_l | vit_h (ignored for random builds)
    embedding_cache_size: int = 8
    #: EdgeTAM's weights dtype: float32, bfloat16, float16, or auto (bfloat16 where the hardware
    #: computes it natively, see ``device.fast_dtype``); SAM v1 always runs in float32
    dtype: str = "float32"


@dataclass
class TrackerConfig(WeightsConfig):
    """Video tracker from transformers: SAM 2.1 (``kind="sam2"``) or EdgeTAM (``kind="edgetam"``).
    ``weights=None`` builds random weights from ``arch``."""

    weights: str | None = "sam2.1-hiera-tiny"
    kind: str = "sam2"  # sam2 | edgetam
    max_side: int = 1024  # frames are decoded at most this large before tracking
    #: frames per second the tracker runs at (None: every frame); streams keep the video's rate
    track_fps: float | None = None
    #: the tracker's input side in pixels, a multiple of 64 (None: the model's own, 1024 released)
    input_size: int | None = None
    #: the frames between tracked frames: "flow" (the nearest tracked frame's masks moved by
    #: optical flow) or "hold" (its masks as they are)
    between: str = "flow"
    #: weights dtype: float32, bfloat16, float16 or auto (see ``device.fast_dtype``)
    dtype: str = "float32"


@dataclass
class DetectorConfig(WeightsConfig):
    """Person detector behind the proposals (see ``tracking/detector.py``).

    ``kind``: ``rtdetr`` (transformers RT-DETR, COCO person = ``person_class``) or ``sam3`` (SAM 3
    prompted with ``text``; gated ``facebook/sam3`` under Meta's SAM License, which is not an
    open-source licence; never a default). ``weights=None`` builds a random RT-DETR from ``arch``
    (``RTDetrConfig`` keys; ``backbone_config`` holds ``RTDetrResNetConfig`` keys, so no backbone is
    fetched). ``image_size``: the square side frames are resized to. ``min_score``: the default
    confidence threshold; ``max_people``: proposals kept per frame, best first.
    """

    weights: str | None = "rtdetr-r50vd-coco-o365"
    kind: str = "rtdetr"
    person_class: int = 0
    image_size: int = 640
    min_score: float = 0.5
    max_people: int = 20
    text: str = "person"
