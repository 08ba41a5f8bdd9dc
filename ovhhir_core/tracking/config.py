"""Configs of the click segmenter (SAM or EdgeTAM) and the video tracker (SAM 2.1 or EdgeTAM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SamConfig:
    """Click segmenter: segment-anything (``kind="sam"``) or EdgeTAM's image model
    (``kind="edgetam"``). ``weights=None`` builds random weights sized by ``arch``."""

    kind: str = "sam"  # sam | edgetam
    model_type: str = "vit_b"  # vit_b | vit_l | vit_h (ignored for random builds)
    weights: str | None = "sam_vit_b"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
    embedding_cache_size: int = 8


@dataclass
class TrackerConfig:
    """Video tracker from transformers: SAM 2.1 (``kind="sam2"``) or EdgeTAM (``kind="edgetam"``).
    ``weights=None`` builds random weights from ``arch``."""

    kind: str = "sam2"  # sam2 | edgetam
    weights: str | None = "sam2.1-hiera-tiny"
    local_path: str | None = None
    arch: dict[str, Any] = field(default_factory=dict)
    max_side: int = 1024  # frames are decoded at most this large before tracking
    #: frames per second the tracker runs at (None: every frame); streams keep the video's rate
    track_fps: float | None = None
    #: the tracker's input side in pixels, a multiple of 64 (None: the model's own, 1024 released)
    input_size: int | None = None
