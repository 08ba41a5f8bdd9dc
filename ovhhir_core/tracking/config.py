"""Configs of the click segmenter (SAM) and the video tracker (SAM 2.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SamConfig:
    """segment-anything click segmenter. ``weights=None`` builds random weights sized by ``arch``."""

    model_type: str = "vit_b"  # vit_b | vit_l | vit_h (ignored for random builds)
    weights: str | None = "sam_vit_b"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
    embedding_cache_size: int = 8


@dataclass
class TrackerConfig:
    """SAM 2.1 video model from transformers. ``weights=None`` builds random weights from ``arch``."""

    weights: str | None = "sam2.1-hiera-tiny"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
    max_side: int = 1024  # frames are decoded at most this large before tracking


@dataclass
class DetectorConfig:
    """Person detector behind the proposals (see ``tracking/detector.py``).

    ``kind``: ``rtdetr`` (transformers RT-DETR, COCO person = ``person_class``) or ``sam3`` (SAM 3
    prompted with ``text``; gated ``facebook/sam3`` under Meta's SAM License, which is not an
    open-source licence; never a default). ``weights=None`` builds a random RT-DETR from ``arch``
    (``RTDetrConfig`` keys; ``backbone_config`` holds ``RTDetrResNetConfig`` keys, so no backbone is
    fetched). ``image_size``: the square side frames are resized to. ``min_score``: the default
    confidence threshold; ``max_people``: proposals kept per frame, best first.
    """

    kind: str = "rtdetr"
    weights: str | None = "rtdetr-r50vd-coco-o365"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
    person_class: int = 0
    image_size: int = 640
    min_score: float = 0.5
    max_people: int = 20
    text: str = "person"
