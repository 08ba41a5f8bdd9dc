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
